// tests/integration/lib/tlog-ref.mjs
// An independent reference of what the audit trail claims to implement, written from the
// specifications (not from src/audit): RFC 6962 / RFC 9162 section 2.1 (Merkle tree hash,
// inclusion and consistency proof verification), RFC 8785 (JCS: ECMAScript serialisation with
// members sorted by UTF-16 code units, which is what JSON.stringify + Array.sort give), and the
// C2SP signed-note / tlog-checkpoint formats with Ed25519 (Node's crypto).
import { createHash, createPublicKey, verify as edVerify } from 'node:crypto';

export const sha256 = (...parts) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};

/** RFC 6962 2.1: leaf = SHA-256(0x00 || d), node = SHA-256(0x01 || l || r). */
export const leafHash = (entry) => sha256(Buffer.from([0]), Buffer.from(entry));
export const nodeHash = (l, r) => sha256(Buffer.from([1]), l, r);

/** MTH(D[n]) from leaf hashes (the recursive definition). */
export function mth(leaves) {
  const n = leaves.length;
  if (n === 0) return sha256(Buffer.alloc(0));
  if (n === 1) return leaves[0];
  let k = 1;
  while (k * 2 < n) k *= 2;
  return nodeHash(mth(leaves.slice(0, k)), mth(leaves.slice(k)));
}

/** RFC 9162 2.1.3.2: verify an inclusion proof. */
export function verifyInclusion(index, size, leaf, proof, root) {
  if (index >= size) return false;
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of proof) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = nodeHash(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      r = nodeHash(r, p);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && r.equals(root);
}

/** RFC 9162 2.1.4.2: verify a consistency proof between sizes first <= second. */
export function verifyConsistency(first, second, firstRoot, secondRoot, proof) {
  if (first === second) return proof.length === 0 && firstRoot.equals(secondRoot);
  if (first === 0 || first > second) return false;
  let path = [...proof];
  if ((first & (first - 1)) === 0) path = [firstRoot, ...path];
  if (path.length === 0) return false;
  let fn = first - 1;
  let sn = second - 1;
  while (fn % 2 === 1) {
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  let fr = path[0];
  let sr = path[0];
  for (const c of path.slice(1)) {
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = nodeHash(c, fr);
      sr = nodeHash(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = Math.floor(fn / 2);
          sn = Math.floor(sn / 2);
        }
      }
    } else {
      sr = nodeHash(sr, c);
    }
    fn = Math.floor(fn / 2);
    sn = Math.floor(sn / 2);
  }
  return sn === 0 && fr.equals(firstRoot) && sr.equals(secondRoot);
}

/** RFC 8785 JCS of a parsed JSON value. */
export function jcs(v) {
  if (v === null || typeof v !== 'object') return JSON.stringify(v);
  if (Array.isArray(v)) return '[' + v.map(jcs).join(',') + ']';
  const keys = Object.keys(v).sort(); // UTF-16 code unit order
  return '{' + keys.map((k) => JSON.stringify(k) + ':' + jcs(v[k])).join(',') + '}';
}

/** Parses a verifier key "name+hash+base64(0x01||pub)" into { name, hash, key (KeyObject) }. */
export function parseVkey(vkey) {
  // the base64 key may itself contain '+': split at the first two only
  const t = vkey.trim();
  const i = t.indexOf('+');
  const j = t.indexOf('+', i + 1);
  const [name, hex, b64] = [t.slice(0, i), t.slice(i + 1, j), t.slice(j + 1)];
  const raw = Buffer.from(b64, 'base64');
  if (raw.length !== 33 || raw[0] !== 1) throw new Error('not an Ed25519 verifier key');
  const pub = raw.subarray(1);
  const want = sha256(Buffer.from(name), Buffer.from([0x0a, 0x01]), pub).subarray(0, 4);
  if (want.toString('hex') !== hex) throw new Error('key hash mismatch');
  // SubjectPublicKeyInfo for Ed25519 (RFC 8410): fixed 12-byte prefix + the 32-byte key
  const spki = Buffer.concat([Buffer.from('302a300506032b6570032100', 'hex'), pub]);
  return { name, hash: want, pub, key: createPublicKey({ key: spki, format: 'der', type: 'spki' }) };
}

/** Opens a C2SP signed checkpoint; returns { origin, size, root, signedBy: [names] }. */
export function openCheckpoint(text, vkeys) {
  const sep = text.indexOf('\n\n');
  if (sep < 0) throw new Error('no blank line');
  const body = text.slice(0, sep + 1);
  const [origin, size, rootB64] = body.split('\n');
  const signedBy = [];
  for (const line of text.slice(sep + 2).split('\n')) {
    if (!line) continue;
    if (!line.startsWith('\u2014 ')) throw new Error('signature line without em dash: ' + line);
    const [name, sigB64] = line.slice(2).split(' ');
    const sig = Buffer.from(sigB64, 'base64');
    for (const k of vkeys) {
      if (k.name !== name || !sig.subarray(0, 4).equals(k.hash)) continue;
      if (edVerify(null, Buffer.from(body), k.key, sig.subarray(4))) signedBy.push(name);
    }
  }
  return { origin, size: Number(size), root: Buffer.from(rootB64, 'base64'), signedBy, body };
}
