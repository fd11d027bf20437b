-- A catalog written by aitag 0.1.0 (schema version 1, before missing items and moves):
-- `aitag tag --analyzers faces photo.jpg`, then `sqlite3 catalog.db .dump` (sqlite3 omits
-- PRAGMA user_version from dumps; it is added below). tests/unit/test_catalog.c migrates it.
PRAGMA foreign_keys=OFF;
BEGIN TRANSACTION;
CREATE TABLE media( id INTEGER PRIMARY KEY, path TEXT NOT NULL UNIQUE, size INTEGER, mtime_ns INTEGER, fingerprint TEXT, kind TEXT, duration REAL, width INTEGER, height INTEGER, container TEXT, video_codec TEXT, audio_codec TEXT, fps REAL, rotation INTEGER, bit_rate INTEGER, derive_key TEXT, status TEXT NOT NULL DEFAULT 'ok', error TEXT, updated_at INTEGER);
INSERT INTO media VALUES(1,'/media/photos/photo.jpg',144516,1796535569417075330,'f995ca0aa6e7ab11','image',0.0,1920,1280,'image2','mjpeg','',0.0,0,28903200,'1d3b9cd43fb6afdef779a66dcad0720ffd613aa24295708c2892840f92787942','ok',NULL,1796535574);
CREATE TABLE runs( id INTEGER PRIMARY KEY, started_at INTEGER, finished_at INTEGER, version TEXT, params TEXT, tagged INTEGER, skipped INTEGER, failed INTEGER);
INSERT INTO runs VALUES(1,1796535574,1796535574,'0.1.0','{"interval":2.000,"threads":2,"force":0}',1,0,0);
CREATE TABLE analyses( media_id INTEGER NOT NULL REFERENCES media(id) ON DELETE CASCADE, analyzer TEXT NOT NULL, key TEXT NOT NULL, interval REAL, n_frames INTEGER, strategy TEXT, run_id INTEGER, created_at INTEGER, PRIMARY KEY(media_id, analyzer));
INSERT INTO analyses VALUES(1,'faces','faces/v1 blazeface-back@1.2.0#427cbbe0 thr=0.55 nms=0.30 flip=1 interval=2.000',0.0,1,'sequential',1,1796535574);
CREATE TABLE evidence( id INTEGER PRIMARY KEY, media_id INTEGER NOT NULL REFERENCES media(id) ON DELETE CASCADE, analyzer TEXT NOT NULL, label TEXT NOT NULL, confidence REAL NOT NULL, t REAL NOT NULL, x REAL, y REAL, w REAL, h REAL, text TEXT, extra TEXT);
INSERT INTO evidence VALUES(1,1,'faces','face',0.94872200489044189453,0.0,0.21927165985107421875,0.31573909521102905273,0.10051006078720092773,0.15047147870063781738,NULL,'{"keypoints":[0.2347,0.3638,0.2705,0.3584,0.2425,0.3992,0.2500,0.4260,0.2347,0.3708,0.3167,0.3609]}');
INSERT INTO evidence VALUES(2,1,'faces','face',0.88960778713226318359,0.0,0.77536720037460327148,0.2045640498399734497,0.081842243671417236328,0.1225239187479019165,NULL,'{"keypoints":[0.8113,0.2241,0.8416,0.2697,0.8085,0.2696,0.7934,0.2906,0.7880,0.2098,0.8526,0.3099]}');
INSERT INTO evidence VALUES(3,1,'faces','face',0.86194127798080444335,0.0,0.44563007354736328125,0.3639036417007446289,0.092326402664184570312,0.13821953535079956054,NULL,'{"keypoints":[0.4604,0.4313,0.4940,0.3975,0.4829,0.4523,0.4972,0.4723,0.4588,0.4459,0.5320,0.3735]}');
CREATE TABLE tags( media_id INTEGER NOT NULL REFERENCES media(id) ON DELETE CASCADE, name TEXT NOT NULL, parent TEXT, label TEXT, confidence REAL, coverage REAL, PRIMARY KEY(media_id, name));
INSERT INTO tags VALUES(1,'face',NULL,'face',0.94872200489044189453,1.0);
CREATE TABLE markers( id INTEGER PRIMARY KEY, media_id INTEGER NOT NULL REFERENCES media(id) ON DELETE CASCADE, tag TEXT NOT NULL, start REAL NOT NULL, end REAL NOT NULL, confidence REAL);
CREATE TABLE texts( id INTEGER PRIMARY KEY, media_id INTEGER NOT NULL REFERENCES media(id) ON DELETE CASCADE, start REAL NOT NULL, end REAL NOT NULL, text TEXT NOT NULL, confidence REAL);
CREATE INDEX evidence_media ON evidence(media_id, analyzer);
CREATE INDEX tags_name ON tags(name COLLATE NOCASE);
CREATE INDEX markers_media ON markers(media_id);
CREATE INDEX texts_media ON texts(media_id);
PRAGMA user_version=1;
COMMIT;
