BEGIN TRANSACTION;
CREATE TABLE build_logs (
	build_id VARCHAR(32) NOT NULL, 
	seq INTEGER NOT NULL, 
	text TEXT NOT NULL, 
	PRIMARY KEY (build_id, seq), 
	FOREIGN KEY(build_id) REFERENCES builds (id)
);
INSERT INTO "build_logs" VALUES('19593fb9fd900000001',1,'Step 1/3 : FROM local/busybox:latest
');
INSERT INTO "build_logs" VALUES('19593fb9fd900000001',2,'Step 2/3 : COPY . /app
');
INSERT INTO "build_logs" VALUES('19593fb9fd900000001',3,'Successfully built 0123456789ab
');
INSERT INTO "build_logs" VALUES('1959400a8e900000003',1,'Step 3/7 : RUN make
make: *** [all] Error 2
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',1,'[36m[01/40][0m	compiling module_1.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',2,'[36m[02/40][0m	compiling module_2.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',3,'[36m[03/40][0m	compiling module_3.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',4,'[36m[04/40][0m	compiling module_4.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',5,'[36m[05/40][0m	compiling module_5.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',6,'[36m[06/40][0m	compiling module_6.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',7,'[36m[07/40][0m	compiling module_7.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',8,'[36m[08/40][0m	compiling module_8.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',9,'Grüße aus Zürich · 日本語のログ · Ελληνικά · emoji 🐳✅ · right-to-left שלום
Grüße aus Zürich · 日本語のログ · Ελληνικά · emoji 🐳✅ · right-to-left שלום
Grüße aus Zürich · 日本語のログ · Ελληνικά · emoji 🐳✅ · right-to-left שלום
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',10,'[36m[09/40][0m	compiling module_9.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',11,'[36m[10/40][0m	compiling module_10.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',12,'[36m[11/40][0m	compiling module_11.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',13,'[36m[12/40][0m	compiling module_12.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',14,'[36m[13/40][0m	compiling module_13.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',15,'[36m[14/40][0m	compiling module_14.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',16,'[36m[15/40][0m	compiling module_15.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',17,'[36m[16/40][0m	compiling module_16.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',18,'Grüße aus Zürich · 日本語のログ · Ελληνικά · emoji 🐳✅ · right-to-left שלום
Grüße aus Zürich · 日本語のログ · Ελληνικά · emoji 🐳✅ · right-to-left שלום
Grüße aus Zürich · 日本語のログ · Ελληνικά · emoji 🐳✅ · right-to-left שלום
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',19,'[36m[17/40][0m	compiling module_17.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',20,'[36m[18/40][0m	compiling module_18.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',21,'[36m[19/40][0m	compiling module_19.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',22,'[36m[20/40][0m	compiling module_20.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',23,'[36m[21/40][0m	compiling module_21.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',24,'[36m[22/40][0m	compiling module_22.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',25,'[36m[23/40][0m	compiling module_23.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',26,'[36m[24/40][0m	compiling module_24.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',27,'Grüße aus Zürich · 日本語のログ · Ελληνικά · emoji 🐳✅ · right-to-left שלום
Grüße aus Zürich · 日本語のログ · Ελληνικά · emoji 🐳✅ · right-to-left שלום
Grüße aus Zürich · 日本語のログ · Ελληνικά · emoji 🐳✅ · right-to-left שלום
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',28,'[36m[25/40][0m	compiling module_25.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',29,'[36m[26/40][0m	compiling module_26.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',30,'[36m[27/40][0m	compiling module_27.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',31,'[36m[28/40][0m	compiling module_28.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',32,'[36m[29/40][0m	compiling module_29.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',33,'[36m[30/40][0m	compiling module_30.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',34,'[36m[31/40][0m	compiling module_31.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',35,'[36m[32/40][0m	compiling module_32.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',36,'Grüße aus Zürich · 日本語のログ · Ελληνικά · emoji 🐳✅ · right-to-left שלום
Grüße aus Zürich · 日本語のログ · Ελληνικά · emoji 🐳✅ · right-to-left שלום
Grüße aus Zürich · 日本語のログ · Ελληνικά · emoji 🐳✅ · right-to-left שלום
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',37,'[36m[33/40][0m	compiling module_33.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',38,'[36m[34/40][0m	compiling module_34.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',39,'[36m[35/40][0m	compiling module_35.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',40,'[36m[36/40][0m	compiling module_36.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',41,'[36m[37/40][0m	compiling module_37.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',42,'[36m[38/40][0m	compiling module_38.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',43,'[36m[39/40][0m	compiling module_39.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',44,'[36m[40/40][0m	compiling module_40.py
');
INSERT INTO "build_logs" VALUES('1959406531b00000006',45,'Grüße aus Zürich · 日本語のログ · Ελληνικά · emoji 🐳✅ · right-to-left שלום
Grüße aus Zürich · 日本語のログ · Ελληνικά · emoji 🐳✅ · right-to-left שלום
Grüße aus Zürich · 日本語のログ · Ελληνικά · emoji 🐳✅ · right-to-left שלום
');
INSERT INTO "build_logs" VALUES('195940a19e700000007',1,'xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx
');
INSERT INTO "build_logs" VALUES('195940a19e700000007',2,'this line crosses the cap this line crosses the c
...<log truncated: the build printed more than the log cap>
');
INSERT INTO "build_logs" VALUES('195940d3f9100000008',1,'Step 1/9 : FROM local/busybox:latest
');
CREATE TABLE builds (
	id VARCHAR(32) NOT NULL, 
	repository VARCHAR(255) NOT NULL, 
	provider VARCHAR(32) NOT NULL, 
	rule_index INTEGER NOT NULL, 
	ref VARCHAR(1024) NOT NULL, 
	commit_sha VARCHAR(40) NOT NULL, 
	status VARCHAR(16) NOT NULL, 
	"trigger" VARCHAR(16) NOT NULL, 
	tags TEXT NOT NULL, 
	digest VARCHAR(128), 
	error TEXT, 
	"plan" TEXT NOT NULL, 
	delivery_id VARCHAR(128), 
	superseded_by VARCHAR(32), 
	created_at DATETIME NOT NULL, 
	started_at DATETIME, 
	finished_at DATETIME, 
	building_at DATETIME, 
	pushing_at DATETIME, 
	heartbeat_at DATETIME, 
	log_size INTEGER NOT NULL, 
	PRIMARY KEY (id)
);
INSERT INTO "builds" VALUES('19593fb9fd900000001','acme/webapp','github',0,'refs/heads/main','1111111111111111111111111111111111111111','success','push','["registry.example.com/acme/webapp:latest"]','sha256:abababababababababababababababababababababababababababababababab',NULL,'{"repository": "acme/webapp", "provider": "github", "rule_index": 0, "ref": "refs/heads/main", "commit": "1111111111111111111111111111111111111111", "clone_url": "https://github.com/acme/webapp.git", "image": "registry.example.com/acme/webapp", "tags": ["registry.example.com/acme/webapp:latest"], "dockerfile": "Dockerfile", "context": ".", "build_args": [], "secret_build_args": [], "target": null, "labels": [], "cache": true, "pull": false, "submodules": false, "hooks": false, "timeout": 3600, "before": null, "path_filter": null, "commit_message": "", "trigger": "push", "extra": {}}','d-0001',NULL,'2025-03-14 09:27:34.839794','2025-03-14 09:28:57.339796','2025-03-14 09:31:01.089799','2025-03-14 09:29:38.589797','2025-03-14 09:30:19.839798','2025-03-14 09:28:57.339796',92);
INSERT INTO "builds" VALUES('1959400a8e900000003','acme/webapp','gitlab',1,'refs/tags/v1.2.3','2222222222222222222222222222222222222222','failed','push','["registry.example.com/acme/webapp:1.2.3", "registry.example.com/acme/webapp:1.2"]',NULL,'docker build failed at step 3/7 (RUN make): exit code 2','{"repository": "acme/webapp", "provider": "gitlab", "rule_index": 1, "ref": "refs/tags/v1.2.3", "commit": "2222222222222222222222222222222222222222", "clone_url": "https://github.com/acme/webapp.git", "image": "registry.example.com/acme/webapp", "tags": ["registry.example.com/acme/webapp:1.2.3", "registry.example.com/acme/webapp:1.2"], "dockerfile": "Dockerfile", "context": ".", "build_args": [["VERSION", "1.2.3"], ["API_TOKEN", "s3cr3t"]], "secret_build_args": ["API_TOKEN"], "target": "runtime", "labels": [["org.example.team", "web"]], "cache": false, "pull": true, "submodules": false, "hooks": false, "timeout": 900, "before": "0000000000000000000000000000000000000000", "path_filter": null, "commit_message": "Release 1.2.3 \u2014 \u201equoted\u201c \u2728", "trigger": "push", "extra": {}}','6f1c2b7e-gitlab',NULL,'2025-03-14 09:33:04.839802','2025-03-14 09:34:27.339804','2025-03-14 09:35:49.839806','2025-03-14 09:35:08.589805',NULL,'2025-03-14 09:34:27.339804',44);
INSERT INTO "builds" VALUES('1959403ce9300000004','acme/webapp','github',2,'refs/heads/develop','3333333333333333333333333333333333333333','superseded','push','["registry.example.com/acme/webapp:latest"]',NULL,NULL,'{"repository": "acme/webapp", "provider": "github", "rule_index": 2, "ref": "refs/heads/develop", "commit": "3333333333333333333333333333333333333333", "clone_url": "https://github.com/acme/webapp.git", "image": "registry.example.com/acme/webapp", "tags": ["registry.example.com/acme/webapp:latest"], "dockerfile": "Dockerfile", "context": ".", "build_args": [], "secret_build_args": [], "target": null, "labels": [], "cache": true, "pull": false, "submodules": false, "hooks": false, "timeout": 3600, "before": null, "path_filter": null, "commit_message": "", "trigger": "push", "extra": {}}','d-0003','195940510d700000005','2025-03-14 09:36:31.089807',NULL,'2025-03-14 09:37:53.589809',NULL,NULL,NULL,0);
INSERT INTO "builds" VALUES('195940510d700000005','acme/webapp','github',2,'refs/heads/develop','4444444444444444444444444444444444444444','queued','push','["registry.example.com/acme/webapp:latest"]',NULL,NULL,'{"repository": "acme/webapp", "provider": "github", "rule_index": 2, "ref": "refs/heads/develop", "commit": "4444444444444444444444444444444444444444", "clone_url": "https://github.com/acme/webapp.git", "image": "registry.example.com/acme/webapp", "tags": ["registry.example.com/acme/webapp:latest"], "dockerfile": "Dockerfile", "context": ".", "build_args": [], "secret_build_args": [], "target": null, "labels": [], "cache": true, "pull": false, "submodules": false, "hooks": false, "timeout": 3600, "before": null, "path_filter": {"included_files": ["src/**"], "ignored_files": ["**/*.md"]}, "commit_message": "", "trigger": "push", "extra": {}}','d-0004',NULL,'2025-03-14 09:37:53.589809',NULL,NULL,NULL,NULL,NULL,0);
INSERT INTO "builds" VALUES('1959406531b00000006','acme/webapp','github',0,'refs/heads/main','5555555555555555555555555555555555555555','success','manual','["registry.example.com/acme/webapp:latest"]','sha256:cdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcdcd',NULL,'{"repository": "acme/webapp", "provider": "github", "rule_index": 0, "ref": "refs/heads/main", "commit": "5555555555555555555555555555555555555555", "clone_url": "https://github.com/acme/webapp.git", "image": "registry.example.com/acme/webapp", "tags": ["registry.example.com/acme/webapp:latest"], "dockerfile": "Dockerfile", "context": ".", "build_args": [], "secret_build_args": [], "target": null, "labels": [], "cache": true, "pull": false, "submodules": false, "hooks": false, "timeout": 3600, "before": null, "path_filter": null, "commit_message": "", "trigger": "manual", "extra": {}}',NULL,NULL,'2025-03-14 09:39:16.089811','2025-03-14 09:40:38.589813','2025-03-14 09:42:42.339816','2025-03-14 09:41:19.839814','2025-03-14 09:42:01.089815','2025-03-14 09:40:38.589813',2666);
INSERT INTO "builds" VALUES('195940a19e700000007','acme/webapp','github',0,'refs/heads/main','6666666666666666666666666666666666666666','timed_out','retry','["registry.example.com/acme/webapp:latest"]',NULL,'the build took longer than 900 s','{"repository": "acme/webapp", "provider": "github", "rule_index": 0, "ref": "refs/heads/main", "commit": "6666666666666666666666666666666666666666", "clone_url": "https://github.com/acme/webapp.git", "image": "registry.example.com/acme/webapp", "tags": ["registry.example.com/acme/webapp:latest"], "dockerfile": "Dockerfile", "context": ".", "build_args": [], "secret_build_args": [], "target": null, "labels": [], "cache": true, "pull": false, "submodules": false, "hooks": false, "timeout": 3600, "before": null, "path_filter": null, "commit_message": "", "trigger": "retry", "extra": {}}',NULL,NULL,'2025-03-14 09:43:23.589817','2025-03-14 09:44:46.089819','2025-03-14 09:46:08.589821','2025-03-14 09:45:27.339820',NULL,'2025-03-14 09:44:46.089819',300);
INSERT INTO "builds" VALUES('195940d3f9100000008','acme/webapp','github',0,'refs/heads/feature/login','7777777777777777777777777777777777777777','building','push','["registry.example.com/acme/webapp:latest"]',NULL,NULL,'{"repository": "acme/webapp", "provider": "github", "rule_index": 0, "ref": "refs/heads/feature/login", "commit": "7777777777777777777777777777777777777777", "clone_url": "https://github.com/acme/webapp.git", "image": "registry.example.com/acme/webapp", "tags": ["registry.example.com/acme/webapp:latest"], "dockerfile": "Dockerfile", "context": ".", "build_args": [], "secret_build_args": [], "target": null, "labels": [], "cache": true, "pull": false, "submodules": false, "hooks": false, "timeout": 3600, "before": null, "path_filter": null, "commit_message": "", "trigger": "push", "extra": {}}',NULL,NULL,'2025-03-14 09:46:49.839822','2025-03-14 09:48:12.339824',NULL,'2025-03-14 09:48:53.589825',NULL,'2025-03-14 09:49:34.839826',37);
INSERT INTO "builds" VALUES('1959410653b00000009','acme/webapp','github',3,'refs/heads/docs','8888888888888888888888888888888888888888','skipped','push','["registry.example.com/acme/webapp:latest"]',NULL,'no changed file matches included_files','{"repository": "acme/webapp", "provider": "github", "rule_index": 3, "ref": "refs/heads/docs", "commit": "8888888888888888888888888888888888888888", "clone_url": "https://github.com/acme/webapp.git", "image": "registry.example.com/acme/webapp", "tags": ["registry.example.com/acme/webapp:latest"], "dockerfile": "Dockerfile", "context": ".", "build_args": [], "secret_build_args": [], "target": null, "labels": [], "cache": true, "pull": false, "submodules": false, "hooks": false, "timeout": 3600, "before": null, "path_filter": null, "commit_message": "", "trigger": "push", "extra": {}}',NULL,NULL,'2025-03-14 09:50:16.089827','2025-03-14 09:51:38.589829','2025-03-14 09:52:19.839830',NULL,NULL,'2025-03-14 09:51:38.589829',0);
INSERT INTO "builds" VALUES('1959412e9c30000000a','acme/webapp','github',0,'refs/heads/main','9999999999999999999999999999999999999999','cancelled','push','["registry.example.com/acme/webapp:latest"]',NULL,'cancelled by admin','{"repository": "acme/webapp", "provider": "github", "rule_index": 0, "ref": "refs/heads/main", "commit": "9999999999999999999999999999999999999999", "clone_url": "https://github.com/acme/webapp.git", "image": "registry.example.com/acme/webapp", "tags": ["registry.example.com/acme/webapp:latest"], "dockerfile": "Dockerfile", "context": ".", "build_args": [], "secret_build_args": [], "target": null, "labels": [], "cache": true, "pull": false, "submodules": false, "hooks": false, "timeout": 3600, "before": null, "path_filter": null, "commit_message": "", "trigger": "push", "extra": {}}',NULL,NULL,'2025-03-14 09:53:01.089831',NULL,'2025-03-14 09:54:23.589833',NULL,NULL,NULL,0);
CREATE TABLE deliveries (
	id INTEGER NOT NULL, 
	forge VARCHAR(32) NOT NULL, 
	delivery_id VARCHAR(128), 
	dedupe_key VARCHAR(200), 
	event VARCHAR(64) NOT NULL, 
	repository VARCHAR(255), 
	refs TEXT NOT NULL, 
	outcome VARCHAR(16) NOT NULL, 
	reason TEXT, 
	build_ids TEXT NOT NULL, 
	status_code INTEGER NOT NULL, 
	received_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_delivery_dedupe UNIQUE (dedupe_key)
);
INSERT INTO "deliveries" VALUES(1,'github','d-0001','github:d-0001','push','acme/webapp','["refs/heads/main"]','queued',NULL,'["19593fb9fd900000001"]',202,'2025-03-14 09:27:34.839794');
INSERT INTO "deliveries" VALUES(2,'gitlab','6f1c2b7e-gitlab','gitlab:6f1c2b7e-gitlab','Tag Push Hook','acme/webapp','["refs/tags/v1.2.3"]','queued',NULL,'["1959400a8e900000003"]',202,'2025-03-14 09:33:04.839802');
INSERT INTO "deliveries" VALUES(3,'github','d-0003','github:d-0003','push','acme/webapp','["refs/heads/develop"]','queued',NULL,'["1959403ce9300000004"]',202,'2025-03-14 09:36:31.089807');
INSERT INTO "deliveries" VALUES(4,'github','d-0004','github:d-0004','push','acme/webapp','["refs/heads/develop"]','queued',NULL,'["195940510d700000005"]',202,'2025-03-14 09:37:53.589809');
INSERT INTO "deliveries" VALUES(5,'github','d-0005','github:d-0005','push','acme/webapp','[]','ping','Keep it logically awesome.','[]',200,'2025-03-14 09:55:04.839834');
INSERT INTO "deliveries" VALUES(6,'github','d-0006','github:d-0006','push','acme/webapp','["refs/heads/feature/x"]','ignored','rule 1: branch ‘feature/x’ does not match main','[]',202,'2025-03-14 09:55:46.089835');
INSERT INTO "deliveries" VALUES(7,'github','d-0007',NULL,'push','acme/webapp','[]','rejected','signature check failed: wrong signature','[]',401,'2025-03-14 09:56:27.339836');
INSERT INTO "deliveries" VALUES(8,'gitea',NULL,NULL,'push','acme/other','[]','rejected','repository ''acme/other'' is not configured for gitea','[]',404,'2025-03-14 09:57:08.589837');
INSERT INTO "deliveries" VALUES(9,'bitbucket','{4b1e-dup}',NULL,'push','acme/webapp','[]','duplicate','delivery already received','[]',200,'2025-03-14 09:57:49.839838');
CREATE INDEX ix_builds_created ON builds (created_at);
CREATE INDEX ix_builds_repo_created ON builds (repository, created_at);
CREATE INDEX ix_builds_rule_latest ON builds (repository, provider, rule_index, created_at);
CREATE INDEX ix_builds_rule_ref ON builds (repository, rule_index, ref, status);
CREATE INDEX ix_builds_status ON builds (status);
CREATE INDEX ix_deliveries_received ON deliveries (received_at);
COMMIT;
