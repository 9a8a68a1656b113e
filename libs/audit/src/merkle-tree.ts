import { createHash } from 'node:crypto';

// RFC 6962 §2.1 with SHA-256. Verification follows transparency-dev/merkle (proof/verify.go),
// whose test vectors this module is checked against.
const HASH_SIZE = 32;
const LEAF_PREFIX = Uint8Array.of(0x00);
const NODE_PREFIX = Uint8Array.of(0x01);

/** A tree size or leaf index; bigint so sizes beyond 2^32 survive the bit arithmetic. */
export type MerkleIndex = number | bigint;

/** `SHA-256(0x00 || data)`: the hash of one leaf (RFC 6962 §2.1). */
export function merkleLeafHash(data: Uint8Array): Uint8Array {
  return sha256(LEAF_PREFIX, data);
}

/** `SHA-256(0x01 || left || right)`: the hash of an interior node (RFC 6962 §2.1). */
export function merkleNodeHash(left: Uint8Array, right: Uint8Array): Uint8Array {
  return sha256(NODE_PREFIX, left, right);
}

/** The Merkle tree hash MTH(D[n]) of the leaf inputs; the empty tree hashes to SHA-256(""). */
export function merkleRoot(leaves: readonly Uint8Array[]): Uint8Array {
  if (leaves.length === 0) return sha256();
  return subtreeRoot(leaves.map(merkleLeafHash), 0, leaves.length);
}

/** The audit path PATH(index, D[n]) of one leaf (RFC 6962 §2.1.1), leaf-side first. */
export function inclusionProof(index: number, leaves: readonly Uint8Array[]): Uint8Array[] {
  if (!Number.isSafeInteger(index) || index < 0 || index >= leaves.length) {
    throw new RangeError(`inclusionProof: index ${index} is outside a tree of ${leaves.length} leaves`);
  }
  return path(index, leaves.map(merkleLeafHash), 0, leaves.length);
}

/**
 * The consistency proof PROOF(m, D[n]) between the tree of the first `m` leaves and the tree of
 * all of them (RFC 6962 §2.1.2), for 0 < m ≤ n; empty when `m` equals the size. The empty tree
 * has no consistency proof: every tree extends it, so there is nothing to prove.
 */
export function consistencyProof(m: number, leaves: readonly Uint8Array[]): Uint8Array[] {
  if (!Number.isSafeInteger(m) || m < 1 || m > leaves.length) {
    throw new RangeError(`consistencyProof: size ${m} is outside 1..${leaves.length}`);
  }
  if (m === leaves.length) return [];
  return subproof(m, leaves.map(merkleLeafHash), 0, leaves.length, true);
}

/** Whether `proof` shows the leaf with hash `leafHash` at `index` in the tree of `size` with `root`. */
export function verifyInclusion(claim: {
  index: MerkleIndex;
  size: MerkleIndex;
  leafHash: Uint8Array;
  proof: readonly Uint8Array[];
  root: Uint8Array;
}): boolean {
  const index = toIndex(claim.index);
  const size = toIndex(claim.size);
  if (index === undefined || size === undefined || index >= size) return false;
  if (claim.leafHash.length !== HASH_SIZE) return false;
  const { inner, border } = decomposeInclusionProof(index, size);
  if (claim.proof.length !== inner + border) return false;
  let hash = chainInner(claim.leafHash, claim.proof.slice(0, inner), index);
  hash = chainBorderRight(hash, claim.proof.slice(inner));
  return sameBytes(hash, claim.root);
}

/**
 * Whether `proof` shows the tree of `size1` with `root1` is a prefix of the tree of `size2` with
 * `root2`. False whenever `size1` is 0: a proof from the empty tree is meaningless.
 */
export function verifyConsistency(claim: {
  size1: MerkleIndex;
  size2: MerkleIndex;
  proof: readonly Uint8Array[];
  root1: Uint8Array;
  root2: Uint8Array;
}): boolean {
  const size1 = toIndex(claim.size1);
  const size2 = toIndex(claim.size2);
  const { proof } = claim;
  if (size1 === undefined || size2 === undefined || size1 === 0n || size2 < size1) return false;
  if (size1 === size2) return proof.length === 0 && sameBytes(claim.root1, claim.root2);
  if (proof.length === 0) return false;

  const decomposition = decomposeInclusionProof(size1 - 1n, size2);
  const shift = trailingZeros(size1);
  const inner = decomposition.inner - shift;
  // The proof starts with the root of the 2^shift subtree, unless size1 is that subtree itself.
  const size1IsSubtree = size1 === 1n << BigInt(shift);
  const seed = size1IsSubtree ? claim.root1 : proof[0];
  const rest = proof.slice(size1IsSubtree ? 0 : 1);
  if (seed === undefined || rest.length !== inner + decomposition.border) return false;

  const mask = (size1 - 1n) >> BigInt(shift);
  const innerProof = rest.slice(0, inner);
  const borderProof = rest.slice(inner);
  const hash1 = chainBorderRight(chainInnerRight(seed, innerProof, mask), borderProof);
  if (!sameBytes(hash1, claim.root1)) return false;
  const hash2 = chainBorderRight(chainInner(seed, innerProof, mask), borderProof);
  return sameBytes(hash2, claim.root2);
}

function subtreeRoot(hashes: readonly Uint8Array[], from: number, to: number): Uint8Array {
  if (to - from === 1) return hashes[from] as Uint8Array;
  const split = from + largestPowerOfTwoBelow(to - from);
  return merkleNodeHash(subtreeRoot(hashes, from, split), subtreeRoot(hashes, split, to));
}

function path(index: number, hashes: readonly Uint8Array[], from: number, to: number): Uint8Array[] {
  if (to - from === 1) return [];
  const split = from + largestPowerOfTwoBelow(to - from);
  return from + index < split
    ? [...path(index, hashes, from, split), subtreeRoot(hashes, split, to)]
    : [...path(index - (split - from), hashes, split, to), subtreeRoot(hashes, from, split)];
}

function subproof(
  m: number,
  hashes: readonly Uint8Array[],
  from: number,
  to: number,
  isWholeOldTree: boolean,
): Uint8Array[] {
  if (m === to - from) return isWholeOldTree ? [] : [subtreeRoot(hashes, from, to)];
  const k = largestPowerOfTwoBelow(to - from);
  return m <= k
    ? [...subproof(m, hashes, from, from + k, isWholeOldTree), subtreeRoot(hashes, from + k, to)]
    : [...subproof(m - k, hashes, from + k, to, false), subtreeRoot(hashes, from, from + k)];
}

// The largest power of two strictly smaller than n (n ≥ 2): where RFC 6962 splits a tree.
function largestPowerOfTwoBelow(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

// An inclusion proof splits into the part inside the perfect subtree holding the leaf (inner)
// and the roots of the perfect subtrees to its left on the tree's right border (border).
function decomposeInclusionProof(index: bigint, size: bigint): { inner: number; border: number } {
  const inner = bitLength(index ^ (size - 1n));
  const border = popCount(index >> BigInt(inner));
  return { inner, border };
}

function chainInner(seed: Uint8Array, proof: readonly Uint8Array[], index: bigint): Uint8Array {
  return proof.reduce(
    (hash, sibling, i) =>
      ((index >> BigInt(i)) & 1n) === 0n ? merkleNodeHash(hash, sibling) : merkleNodeHash(sibling, hash),
    seed,
  );
}

function chainInnerRight(seed: Uint8Array, proof: readonly Uint8Array[], index: bigint): Uint8Array {
  return proof.reduce(
    (hash, sibling, i) => (((index >> BigInt(i)) & 1n) === 1n ? merkleNodeHash(sibling, hash) : hash),
    seed,
  );
}

function chainBorderRight(seed: Uint8Array, proof: readonly Uint8Array[]): Uint8Array {
  return proof.reduce((hash, sibling) => merkleNodeHash(sibling, hash), seed);
}

function toIndex(value: MerkleIndex): bigint | undefined {
  if (typeof value === 'bigint') return value >= 0n ? value : undefined;
  return Number.isSafeInteger(value) && value >= 0 ? BigInt(value) : undefined;
}

function bitLength(value: bigint): number {
  return value === 0n ? 0 : value.toString(2).length;
}

function popCount(value: bigint): number {
  return [...value.toString(2)].filter((bit) => bit === '1').length;
}

function trailingZeros(value: bigint): number {
  let zeros = 0;
  while (((value >> BigInt(zeros)) & 1n) === 0n) zeros += 1;
  return zeros;
}

function sameBytes(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && a.every((byte, i) => byte === b[i]);
}

function sha256(...parts: Uint8Array[]): Uint8Array {
  const hash = createHash('sha256');
  for (const part of parts) hash.update(part);
  return new Uint8Array(hash.digest());
}
