--
-- PostgreSQL database dump
--


-- Dumped from database version 15.18 (Debian 15.18-0+deb12u1)
-- Dumped by pg_dump version 15.18 (Debian 15.18-0+deb12u1)

SET statement_timeout = 0;
SET lock_timeout = 0;
SET idle_in_transaction_session_timeout = 0;
SET client_encoding = 'UTF8';
SET standard_conforming_strings = on;
SELECT pg_catalog.set_config('search_path', '', false);
SET check_function_bodies = false;
SET xmloption = content;
SET client_min_messages = warning;
SET row_security = off;

SET default_tablespace = '';

SET default_table_access_method = heap;

--
-- Name: build_logs; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.build_logs (
    build_id character varying(32) NOT NULL,
    seq integer NOT NULL,
    text text NOT NULL
);


--
-- Name: builds; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.builds (
    id character varying(32) NOT NULL,
    repository character varying(255) NOT NULL,
    provider character varying(32) NOT NULL,
    rule_index integer NOT NULL,
    ref character varying(1024) NOT NULL,
    commit_sha character varying(40) NOT NULL,
    status character varying(16) NOT NULL,
    trigger character varying(16) NOT NULL,
    tags text NOT NULL,
    digest character varying(128),
    error text,
    plan text NOT NULL,
    delivery_id character varying(128),
    superseded_by character varying(32),
    created_at timestamp with time zone NOT NULL,
    started_at timestamp with time zone,
    finished_at timestamp with time zone,
    building_at timestamp with time zone,
    pushing_at timestamp with time zone,
    heartbeat_at timestamp with time zone,
    log_size integer NOT NULL
);


--
-- Name: deliveries; Type: TABLE; Schema: public; Owner: -
--

CREATE TABLE public.deliveries (
    id integer NOT NULL,
    forge character varying(32) NOT NULL,
    delivery_id character varying(128),
    dedupe_key character varying(200),
    event character varying(64) NOT NULL,
    repository character varying(255),
    refs text NOT NULL,
    outcome character varying(16) NOT NULL,
    reason text,
    build_ids text NOT NULL,
    status_code integer NOT NULL,
    received_at timestamp with time zone NOT NULL
);


--
-- Name: deliveries_id_seq; Type: SEQUENCE; Schema: public; Owner: -
--

CREATE SEQUENCE public.deliveries_id_seq
    AS integer
    START WITH 1
    INCREMENT BY 1
    NO MINVALUE
    NO MAXVALUE
    CACHE 1;


--
-- Name: deliveries_id_seq; Type: SEQUENCE OWNED BY; Schema: public; Owner: -
--

ALTER SEQUENCE public.deliveries_id_seq OWNED BY public.deliveries.id;


--
-- Name: deliveries id; Type: DEFAULT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deliveries ALTER COLUMN id SET DEFAULT nextval('public.deliveries_id_seq'::regclass);


--
-- Data for Name: build_logs; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.build_logs (build_id, seq, text) VALUES ('19593fb9fd900000001', 1, 'Step 1/3 : FROM local/busybox:latest
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('19593fb9fd900000001', 2, 'Step 2/3 : COPY . /app
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('19593fb9fd900000001', 3, 'Successfully built 0123456789ab
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959400a8e900000003', 1, 'Step 3/7 : RUN make
make: *** [all] Error 2
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 1, '[36m[01/40][0m	compiling module_1.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 2, '[36m[02/40][0m	compiling module_2.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 3, '[36m[03/40][0m	compiling module_3.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 4, '[36m[04/40][0m	compiling module_4.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 5, '[36m[05/40][0m	compiling module_5.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 6, '[36m[06/40][0m	compiling module_6.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 7, '[36m[07/40][0m	compiling module_7.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 8, '[36m[08/40][0m	compiling module_8.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 9, 'Grüße aus Zürich · 日本語のログ · Ελληνικά · emoji 🐳✅ · right-to-left שלום
Grüße aus Zürich · 日本語のログ · Ελληνικά · emoji 🐳✅ · right-to-left שלום
Grüße aus Zürich · 日本語のログ · Ελληνικά · emoji 🐳✅ · right-to-left שלום
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 10, '[36m[09/40][0m	compiling module_9.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 11, '[36m[10/40][0m	compiling module_10.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 12, '[36m[11/40][0m	compiling module_11.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 13, '[36m[12/40][0m	compiling module_12.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 14, '[36m[13/40][0m	compiling module_13.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 15, '[36m[14/40][0m	compiling module_14.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 16, '[36m[15/40][0m	compiling module_15.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 17, '[36m[16/40][0m	compiling module_16.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 18, 'Grüße aus Zürich · 日本語のログ · Ελληνικά · emoji 🐳✅ · right-to-left שלום
Grüße aus Zürich · 日本語のログ · Ελληνικά · emoji 🐳✅ · right-to-left שלום
Grüße aus Zürich · 日本語のログ · Ελληνικά · emoji 🐳✅ · right-to-left שלום
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 19, '[36m[17/40][0m	compiling module_17.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 20, '[36m[18/40][0m	compiling module_18.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 21, '[36m[19/40][0m	compiling module_19.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 22, '[36m[20/40][0m	compiling module_20.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 23, '[36m[21/40][0m	compiling module_21.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 24, '[36m[22/40][0m	compiling module_22.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 25, '[36m[23/40][0m	compiling module_23.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 26, '[36m[24/40][0m	compiling module_24.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 27, 'Grüße aus Zürich · 日本語のログ · Ελληνικά · emoji 🐳✅ · right-to-left שלום
Grüße aus Zürich · 日本語のログ · Ελληνικά · emoji 🐳✅ · right-to-left שלום
Grüße aus Zürich · 日本語のログ · Ελληνικά · emoji 🐳✅ · right-to-left שלום
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 28, '[36m[25/40][0m	compiling module_25.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 29, '[36m[26/40][0m	compiling module_26.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 30, '[36m[27/40][0m	compiling module_27.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 31, '[36m[28/40][0m	compiling module_28.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 32, '[36m[29/40][0m	compiling module_29.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 33, '[36m[30/40][0m	compiling module_30.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 34, '[36m[31/40][0m	compiling module_31.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 35, '[36m[32/40][0m	compiling module_32.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 36, 'Grüße aus Zürich · 日本語のログ · Ελληνικά · emoji 🐳✅ · right-to-left שלום
Grüße aus Zürich · 日本語のログ · Ελληνικά · emoji 🐳✅ · right-to-left שלום
Grüße aus Zürich · 日本語のログ · Ελληνικά · emoji 🐳✅ · right-to-left שלום
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 37, '[36m[33/40][0m	compiling module_33.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 38, '[36m[34/40][0m	compiling module_34.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 39, '[36m[35/40][0m	compiling module_35.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 40, '[36m[36/40][0m	compiling module_36.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 41, '[36m[37/40][0m	compiling module_37.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 42, '[36m[38/40][0m	compiling module_38.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 43, '[36m[39/40][0m	compiling module_39.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 44, '[36m[40/40][0m	compiling module_40.py
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('1959406531b00000006', 45, 'Grüße aus Zürich · 日本語のログ · Ελληνικά · emoji 🐳✅ · right-to-left שלום
Grüße aus Zürich · 日本語のログ · Ελληνικά · emoji 🐳✅ · right-to-left שלום
Grüße aus Zürich · 日本語のログ · Ελληνικά · emoji 🐳✅ · right-to-left שלום
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('195940a19e700000007', 1, 'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('195940a19e700000007', 2, 'this line crosses the cap this line crosses the c
...<log truncated: the build printed more than the log cap>
');
INSERT INTO public.build_logs (build_id, seq, text) VALUES ('195940d3f9100000008', 1, 'Step 1/9 : FROM local/busybox:latest
');


--
-- Data for Name: builds; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.builds (id, repository, provider, rule_index, ref, commit_sha, status, trigger, tags, digest, error, plan, delivery_id, superseded_by, created_at, started_at, finished_at, building_at, pushing_at, heartbeat_at, log_size) VALUES ('1959403ce9300000004', 'acme/webapp', 'github', 2, 'refs/heads/develop', '3333333333333333333333333333333333333333', 'superseded', 'push', '["registry.example.com/acme/webapp:latest"]', NULL, NULL, '{"repository": "acme/webapp", "provider": "github", "rule_index": 2, "ref": "refs/heads/develop", "commit": "3333333333333333333333333333333333333333", "clone_url": "https://github.com/acme/webapp.git", "image": "registry.example.com/acme/webapp", "tags": ["registry.example.com/acme/webapp:latest"], "dockerfile": "Dockerfile", "context": ".", "build_args": [], "secret_build_args": [], "target": null, "labels": [], "cache": true, "pull": false, "submodules": false, "hooks": false, "timeout": 3600, "before": null, "path_filter": null, "commit_message": "", "trigger": "push", "extra": {}}', 'd-0003', '195940510d700000005', '2025-03-14 09:36:31.089807+00', NULL, '2025-03-14 09:37:53.589809+00', NULL, NULL, NULL, 0);
INSERT INTO public.builds (id, repository, provider, rule_index, ref, commit_sha, status, trigger, tags, digest, error, plan, delivery_id, superseded_by, created_at, started_at, finished_at, building_at, pushing_at, heartbeat_at, log_size) VALUES ('19593fb9fd900000001', 'acme/webapp', 'github', 0, 'refs/heads/main', '1111111111111111111111111111111111111111', 'success', 'push', '["registry.example.com/acme/webapp:latest"]', 'sha256:abababababababababababababababababababababababababababababababab', NULL, '{"repository": "acme/webapp", "provider": "github", "rule_index": 0, "ref": "refs/heads/main", "commit": "1111111111111111111111111111111111111111", "clone_url": "https://github.com/acme/webapp.git", "image": "registry.example.com/acme/webapp", "tags": ["registry.example.com/acme/webapp:latest"], "dockerfile": "Dockerfile", "context": ".", "build_args": [], "secret_build_args": [], "target": null, "labels": [], "cache": true, "pull": false, "submodules": false, "hooks": false, "timeout": 3600, "before": null, "path_filter": null, "commit_message": "", "trigger": "push", "extra": {}}', 'd-0001', NULL, '2025-03-14 09:27:34.839794+00', '2025-03-14 09:28:57.339796+00', '2025-03-14 09:31:01.089799+00', '2025-03-14 09:29:38.589797+00', '2025-03-14 09:30:19.839798+00', '2025-03-14 09:28:57.339796+00', 92);
INSERT INTO public.builds (id, repository, provider, rule_index, ref, commit_sha, status, trigger, tags, digest, error, plan, delivery_id, superseded_by, created_at, started_at, finished_at, building_at, pushing_at, heartbeat_at, log_size) VALUES ('1959400a8e900000003', 'acme/webapp', 'gitlab', 1, 'refs/tags/v1.2.3', '2222222222222222222222222222222222222222', 'failed', 'push', '["registry.example.com/acme/webapp:1.2.3", "registry.example.com/acme/webapp:1.2"]', NULL, 'docker build failed at step 3/7 (RUN make): exit code 2', '{"repository": "acme/webapp", "provider": "gitlab", "rule_index": 1, "ref": "refs/tags/v1.2.3", "commit": "2222222222222222222222222222222222222222", "clone_url": "https://github.com/acme/webapp.git", "image": "registry.example.com/acme/webapp", "tags": ["registry.example.com/acme/webapp:1.2.3", "registry.example.com/acme/webapp:1.2"], "dockerfile": "Dockerfile", "context": ".", "build_args": [["VERSION", "1.2.3"], ["API_TOKEN", "s3cr3t"]], "secret_build_args": ["API_TOKEN"], "target": "runtime", "labels": [["org.example.team", "web"]], "cache": false, "pull": true, "submodules": false, "hooks": false, "timeout": 900, "before": "0000000000000000000000000000000000000000", "path_filter": null, "commit_message": "Release 1.2.3 \u2014 \u201equoted\u201c \u2728", "trigger": "push", "extra": {}}', '6f1c2b7e-gitlab', NULL, '2025-03-14 09:33:04.839802+00', '2025-03-14 09:34:27.339804+00', '2025-03-14 09:35:49.839806+00', '2025-03-14 09:35:08.589805+00', NULL, '2025-03-14 09:34:27.339804+00', 44);
INSERT INTO public.builds (id, repository, provider, rule_index, ref, commit_sha, status, trigger, tags, digest, error, plan, delivery_id, superseded_by, created_at, started_at, finished_at, building_at, pushing_at, heartbeat_at, log_size) VALUES ('195940510d700000005', 'acme/webapp', 'github', 2, 'refs/heads/develop', '4444444444444444444444444444444444444444', 'queued', 'push', '["registry.example.com/acme/webapp:latest"]', NULL, NULL, '{"repository": "acme/webapp", "provider": "github", "rule_index": 2, "ref": "refs/heads/develop", "commit": "4444444444444444444444444444444444444444", "clone_url": "https://github.com/acme/webapp.git", "image": "registry.example.com/acme/webapp", "tags": ["registry.example.com/acme/webapp:latest"], "dockerfile": "Dockerfile", "context": ".", "build_args": [], "secret_build_args": [], "target": null, "labels": [], "cache": true, "pull": false, "submodules": false, "hooks": false, "timeout": 3600, "before": null, "path_filter": {"included_files": ["src/**"], "ignored_files": ["**/*.md"]}, "commit_message": "", "trigger": "push", "extra": {}}', 'd-0004', NULL, '2025-03-14 09:37:53.589809+00', NULL, NULL, NULL, NULL, NULL, 0);
INSERT INTO public.builds (id, repository, provider, rule_index, ref, commit_sha, status, trigger, tags, digest, error, plan, delivery_id, superseded_by, created_at, started_at, finished_at, building_at, pushing_at, heartbeat_at, log_size) VALUES ('1959406531b00000006', 'acme/webapp', 'github', 0, 'refs/heads/main', '5555555555555555555555555555555555555555', 'success', 'manual', '["registry.example.com/acme/webapp:latest"]', 'sha256:cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd', NULL, '{"repository": "acme/webapp", "provider": "github", "rule_index": 0, "ref": "refs/heads/main", "commit": "5555555555555555555555555555555555555555", "clone_url": "https://github.com/acme/webapp.git", "image": "registry.example.com/acme/webapp", "tags": ["registry.example.com/acme/webapp:latest"], "dockerfile": "Dockerfile", "context": ".", "build_args": [], "secret_build_args": [], "target": null, "labels": [], "cache": true, "pull": false, "submodules": false, "hooks": false, "timeout": 3600, "before": null, "path_filter": null, "commit_message": "", "trigger": "manual", "extra": {}}', NULL, NULL, '2025-03-14 09:39:16.089811+00', '2025-03-14 09:40:38.589813+00', '2025-03-14 09:42:42.339816+00', '2025-03-14 09:41:19.839814+00', '2025-03-14 09:42:01.089815+00', '2025-03-14 09:40:38.589813+00', 2666);
INSERT INTO public.builds (id, repository, provider, rule_index, ref, commit_sha, status, trigger, tags, digest, error, plan, delivery_id, superseded_by, created_at, started_at, finished_at, building_at, pushing_at, heartbeat_at, log_size) VALUES ('195940a19e700000007', 'acme/webapp', 'github', 0, 'refs/heads/main', '6666666666666666666666666666666666666666', 'timed_out', 'retry', '["registry.example.com/acme/webapp:latest"]', NULL, 'the build took longer than 900 s', '{"repository": "acme/webapp", "provider": "github", "rule_index": 0, "ref": "refs/heads/main", "commit": "6666666666666666666666666666666666666666", "clone_url": "https://github.com/acme/webapp.git", "image": "registry.example.com/acme/webapp", "tags": ["registry.example.com/acme/webapp:latest"], "dockerfile": "Dockerfile", "context": ".", "build_args": [], "secret_build_args": [], "target": null, "labels": [], "cache": true, "pull": false, "submodules": false, "hooks": false, "timeout": 3600, "before": null, "path_filter": null, "commit_message": "", "trigger": "retry", "extra": {}}', NULL, NULL, '2025-03-14 09:43:23.589817+00', '2025-03-14 09:44:46.089819+00', '2025-03-14 09:46:08.589821+00', '2025-03-14 09:45:27.33982+00', NULL, '2025-03-14 09:44:46.089819+00', 300);
INSERT INTO public.builds (id, repository, provider, rule_index, ref, commit_sha, status, trigger, tags, digest, error, plan, delivery_id, superseded_by, created_at, started_at, finished_at, building_at, pushing_at, heartbeat_at, log_size) VALUES ('195940d3f9100000008', 'acme/webapp', 'github', 0, 'refs/heads/feature/login', '7777777777777777777777777777777777777777', 'building', 'push', '["registry.example.com/acme/webapp:latest"]', NULL, NULL, '{"repository": "acme/webapp", "provider": "github", "rule_index": 0, "ref": "refs/heads/feature/login", "commit": "7777777777777777777777777777777777777777", "clone_url": "https://github.com/acme/webapp.git", "image": "registry.example.com/acme/webapp", "tags": ["registry.example.com/acme/webapp:latest"], "dockerfile": "Dockerfile", "context": ".", "build_args": [], "secret_build_args": [], "target": null, "labels": [], "cache": true, "pull": false, "submodules": false, "hooks": false, "timeout": 3600, "before": null, "path_filter": null, "commit_message": "", "trigger": "push", "extra": {}}', NULL, NULL, '2025-03-14 09:46:49.839822+00', '2025-03-14 09:48:12.339824+00', NULL, '2025-03-14 09:48:53.589825+00', NULL, '2025-03-14 09:49:34.839826+00', 37);
INSERT INTO public.builds (id, repository, provider, rule_index, ref, commit_sha, status, trigger, tags, digest, error, plan, delivery_id, superseded_by, created_at, started_at, finished_at, building_at, pushing_at, heartbeat_at, log_size) VALUES ('1959410653b00000009', 'acme/webapp', 'github', 3, 'refs/heads/docs', '8888888888888888888888888888888888888888', 'skipped', 'push', '["registry.example.com/acme/webapp:latest"]', NULL, 'no changed file matches included_files', '{"repository": "acme/webapp", "provider": "github", "rule_index": 3, "ref": "refs/heads/docs", "commit": "8888888888888888888888888888888888888888", "clone_url": "https://github.com/acme/webapp.git", "image": "registry.example.com/acme/webapp", "tags": ["registry.example.com/acme/webapp:latest"], "dockerfile": "Dockerfile", "context": ".", "build_args": [], "secret_build_args": [], "target": null, "labels": [], "cache": true, "pull": false, "submodules": false, "hooks": false, "timeout": 3600, "before": null, "path_filter": null, "commit_message": "", "trigger": "push", "extra": {}}', NULL, NULL, '2025-03-14 09:50:16.089827+00', '2025-03-14 09:51:38.589829+00', '2025-03-14 09:52:19.83983+00', NULL, NULL, '2025-03-14 09:51:38.589829+00', 0);
INSERT INTO public.builds (id, repository, provider, rule_index, ref, commit_sha, status, trigger, tags, digest, error, plan, delivery_id, superseded_by, created_at, started_at, finished_at, building_at, pushing_at, heartbeat_at, log_size) VALUES ('1959412e9c30000000a', 'acme/webapp', 'github', 0, 'refs/heads/main', '9999999999999999999999999999999999999999', 'cancelled', 'push', '["registry.example.com/acme/webapp:latest"]', NULL, 'cancelled by admin', '{"repository": "acme/webapp", "provider": "github", "rule_index": 0, "ref": "refs/heads/main", "commit": "9999999999999999999999999999999999999999", "clone_url": "https://github.com/acme/webapp.git", "image": "registry.example.com/acme/webapp", "tags": ["registry.example.com/acme/webapp:latest"], "dockerfile": "Dockerfile", "context": ".", "build_args": [], "secret_build_args": [], "target": null, "labels": [], "cache": true, "pull": false, "submodules": false, "hooks": false, "timeout": 3600, "before": null, "path_filter": null, "commit_message": "", "trigger": "push", "extra": {}}', NULL, NULL, '2025-03-14 09:53:01.089831+00', NULL, '2025-03-14 09:54:23.589833+00', NULL, NULL, NULL, 0);


--
-- Data for Name: deliveries; Type: TABLE DATA; Schema: public; Owner: -
--

INSERT INTO public.deliveries (id, forge, delivery_id, dedupe_key, event, repository, refs, outcome, reason, build_ids, status_code, received_at) VALUES (1, 'github', 'd-0001', 'github:d-0001', 'push', 'acme/webapp', '["refs/heads/main"]', 'queued', NULL, '["19593fb9fd900000001"]', 202, '2025-03-14 09:27:34.839794+00');
INSERT INTO public.deliveries (id, forge, delivery_id, dedupe_key, event, repository, refs, outcome, reason, build_ids, status_code, received_at) VALUES (3, 'gitlab', '6f1c2b7e-gitlab', 'gitlab:6f1c2b7e-gitlab', 'Tag Push Hook', 'acme/webapp', '["refs/tags/v1.2.3"]', 'queued', NULL, '["1959400a8e900000003"]', 202, '2025-03-14 09:33:04.839802+00');
INSERT INTO public.deliveries (id, forge, delivery_id, dedupe_key, event, repository, refs, outcome, reason, build_ids, status_code, received_at) VALUES (4, 'github', 'd-0003', 'github:d-0003', 'push', 'acme/webapp', '["refs/heads/develop"]', 'queued', NULL, '["1959403ce9300000004"]', 202, '2025-03-14 09:36:31.089807+00');
INSERT INTO public.deliveries (id, forge, delivery_id, dedupe_key, event, repository, refs, outcome, reason, build_ids, status_code, received_at) VALUES (5, 'github', 'd-0004', 'github:d-0004', 'push', 'acme/webapp', '["refs/heads/develop"]', 'queued', NULL, '["195940510d700000005"]', 202, '2025-03-14 09:37:53.589809+00');
INSERT INTO public.deliveries (id, forge, delivery_id, dedupe_key, event, repository, refs, outcome, reason, build_ids, status_code, received_at) VALUES (6, 'github', 'd-0005', 'github:d-0005', 'push', 'acme/webapp', '[]', 'ping', 'Keep it logically awesome.', '[]', 200, '2025-03-14 09:55:04.839834+00');
INSERT INTO public.deliveries (id, forge, delivery_id, dedupe_key, event, repository, refs, outcome, reason, build_ids, status_code, received_at) VALUES (7, 'github', 'd-0006', 'github:d-0006', 'push', 'acme/webapp', '["refs/heads/feature/x"]', 'ignored', 'rule 1: branch ‘feature/x’ does not match main', '[]', 202, '2025-03-14 09:55:46.089835+00');
INSERT INTO public.deliveries (id, forge, delivery_id, dedupe_key, event, repository, refs, outcome, reason, build_ids, status_code, received_at) VALUES (8, 'github', 'd-0007', NULL, 'push', 'acme/webapp', '[]', 'rejected', 'signature check failed: wrong signature', '[]', 401, '2025-03-14 09:56:27.339836+00');
INSERT INTO public.deliveries (id, forge, delivery_id, dedupe_key, event, repository, refs, outcome, reason, build_ids, status_code, received_at) VALUES (9, 'gitea', NULL, NULL, 'push', 'acme/other', '[]', 'rejected', 'repository ''acme/other'' is not configured for gitea', '[]', 404, '2025-03-14 09:57:08.589837+00');
INSERT INTO public.deliveries (id, forge, delivery_id, dedupe_key, event, repository, refs, outcome, reason, build_ids, status_code, received_at) VALUES (10, 'bitbucket', '{4b1e-dup}', NULL, 'push', 'acme/webapp', '[]', 'duplicate', 'delivery already received', '[]', 200, '2025-03-14 09:57:49.839838+00');


--
-- Name: deliveries_id_seq; Type: SEQUENCE SET; Schema: public; Owner: -
--

SELECT pg_catalog.setval('public.deliveries_id_seq', 10, true);


--
-- Name: build_logs build_logs_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.build_logs
    ADD CONSTRAINT build_logs_pkey PRIMARY KEY (build_id, seq);


--
-- Name: builds builds_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.builds
    ADD CONSTRAINT builds_pkey PRIMARY KEY (id);


--
-- Name: deliveries deliveries_pkey; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deliveries
    ADD CONSTRAINT deliveries_pkey PRIMARY KEY (id);


--
-- Name: deliveries uq_delivery_dedupe; Type: CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.deliveries
    ADD CONSTRAINT uq_delivery_dedupe UNIQUE (dedupe_key);


--
-- Name: ix_builds_created; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_builds_created ON public.builds USING btree (created_at);


--
-- Name: ix_builds_repo_created; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_builds_repo_created ON public.builds USING btree (repository, created_at);


--
-- Name: ix_builds_rule_latest; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_builds_rule_latest ON public.builds USING btree (repository, provider, rule_index, created_at);


--
-- Name: ix_builds_rule_ref; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_builds_rule_ref ON public.builds USING btree (repository, rule_index, ref, status);


--
-- Name: ix_builds_status; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_builds_status ON public.builds USING btree (status);


--
-- Name: ix_deliveries_received; Type: INDEX; Schema: public; Owner: -
--

CREATE INDEX ix_deliveries_received ON public.deliveries USING btree (received_at);


--
-- Name: build_logs build_logs_build_id_fkey; Type: FK CONSTRAINT; Schema: public; Owner: -
--

ALTER TABLE ONLY public.build_logs
    ADD CONSTRAINT build_logs_build_id_fkey FOREIGN KEY (build_id) REFERENCES public.builds(id);


--
-- PostgreSQL database dump complete
--


