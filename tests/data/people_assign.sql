-- people_assign.sql - four people over the faces the catalog stored while tagging the people
-- tests' fixtures (tests/integration/people_cli.sh, tests/e2e/plugin_people.sh), assigned as a
-- clustering would ("auto"), the same way on every run whatever the clustering's settings:
--   person 1: faces_720p_hevc.mkv before 20 s, the face right of x = 0.3
--   person 2: faces_720p_hevc.mkv before 20 s, the face left of it
--   person 3: faces_720p_hevc.mkv from 20 s on, and portrait_1face.gif
--   person 4: group_3faces.jpg
BEGIN;
INSERT INTO people(id, origin, created_at, updated_at)
    VALUES (1, 'cluster', 0, 0), (2, 'cluster', 0, 0), (3, 'cluster', 0, 0), (4, 'cluster', 0, 0);
UPDATE faces SET assigned = 'auto', person_id = (
    SELECT CASE
        WHEN m.path LIKE '%/faces_720p_hevc.mkv' THEN
            CASE WHEN faces.t >= 20 THEN 3 WHEN faces.x > 0.3 THEN 1 ELSE 2 END
        WHEN m.path LIKE '%/portrait_1face.gif' THEN 3
        WHEN m.path LIKE '%/group_3faces.jpg' THEN 4
    END FROM media m WHERE m.id = faces.media_id);
COMMIT;
