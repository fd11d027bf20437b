// people_faces.js - turns the face_attrs "face" evidence of a catalog into rows of the faces
// and people tables, as the people engine's ingest would (the embedding is the evidence's
// descriptor as float32), with a fixed assignment the people tests rely on. Reads
// `sqlite3 -json` rows (id, media, path, t, x, y, w, h, confidence, extra) on stdin and
// prints SQL on stdout. Assignment, for the fixtures tests/integration/people_cli.sh tags:
//   person 1: faces_720p_hevc.mkv before 20 s, the face right of x = 0.3
//   person 2: faces_720p_hevc.mkv before 20 s, the face left of it
//   person 3: faces_720p_hevc.mkv from 20 s on, and portrait_1face.gif
//   person 4: group_3faces.jpg
'use strict';
const rows = JSON.parse(require('fs').readFileSync(0, 'utf8') || '[]');
const out = ['BEGIN;'];
for (let p = 1; p <= 4; p++)
    out.push(`INSERT INTO people(id, origin, created_at, updated_at) VALUES(${p}, 'cluster', 0, 0);`);
for (const r of rows) {
    const d = JSON.parse(r.extra).descriptor;
    const f = Buffer.from(new Float32Array(d).buffer).toString('hex');
    const video = r.path.endsWith('faces_720p_hevc.mkv');
    const person = video ? (r.t >= 20 ? 3 : r.x > 0.3 ? 1 : 2)
                 : r.path.endsWith('portrait_1face.gif') ? 3 : 4;
    out.push(`INSERT INTO faces(media_id, t, x, y, w, h, score, quality, model, embedding,` +
             ` person_id, assigned) VALUES(${r.media}, ${r.t}, ${r.x}, ${r.y}, ${r.w}, ${r.h},` +
             ` ${r.confidence}, ${r.w}, 'faceres', X'${f}', ${person}, 'auto');`);
}
out.push('COMMIT;');
console.log(out.join('\n'));
