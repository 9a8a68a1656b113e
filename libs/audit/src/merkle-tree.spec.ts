import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  consistencyProof,
  inclusionProof,
  merkleLeafHash,
  merkleNodeHash,
  merkleRoot,
  verifyConsistency,
  verifyInclusion,
} from './merkle-tree';
import { jsonFilesUnder, vectorsDir } from './test-vectors.fixture';

// Vectors from transparency-dev/merkle testdata (README in testvectors/): hashes in base64,
// `wantErr` marks the tampered cases. The subtree* folders cover a later draft's subtree proofs,
// which the audit log does not use.
const dir = vectorsDir('merkle');
const reference = JSON.parse(readFileSync(join(dir, 'reference-tree.json'), 'utf8')) as ReferenceTree;
const leaves = reference.leafInputsHex.map((hex) => new Uint8Array(Buffer.from(hex, 'hex')));
const inclusionVectors = jsonFilesUnder<InclusionVector>(join(dir, 'inclusion'));
const consistencyVectors = jsonFilesUnder<ConsistencyVector>(join(dir, 'consistency'));

describe('RFC 6962 Merkle tree', () => {
  describe('Given the 8-leaf reference tree', () => {
    it.each(reference.rootHashesBySize.map((root, size) => [size, root]))(
      'should compute the root of the first %i leaves',
      (size, root) => {
        expect(hex(merkleRoot(leaves.slice(0, size)))).toBe(root);
      },
    );

    it('should hash leaves with 0x00 and nodes with 0x01', () => {
      const [first, second] = [
        merkleLeafHash(leaves[0] as Uint8Array),
        merkleLeafHash(leaves[1] as Uint8Array),
      ];
      expect(hex(first)).toBe(reference.nodeHashes[0]?.[0]);
      expect(hex(merkleNodeHash(first, second))).toBe(reference.nodeHashes[1]?.[0]);
    });

    it('should prove and verify the inclusion of every leaf in every tree size', () => {
      for (let size = 1; size <= leaves.length; size++) {
        const tree = leaves.slice(0, size);
        const root = merkleRoot(tree);
        for (let index = 0; index < size; index++) {
          const claim = { index, size, leafHash: merkleLeafHash(tree[index] as Uint8Array), root };
          expect(verifyInclusion({ ...claim, proof: inclusionProof(index, tree) })).toBe(true);
          expect(
            verifyInclusion({ ...claim, index: (index + 1) % size, proof: inclusionProof(index, tree) }),
          ).toBe(size === 1);
        }
      }
    });

    it('should prove and verify consistency between every pair of tree sizes', () => {
      for (let size2 = 1; size2 <= leaves.length; size2++) {
        for (let size1 = 1; size1 <= size2; size1++) {
          const claim = {
            size1,
            size2,
            root1: merkleRoot(leaves.slice(0, size1)),
            root2: merkleRoot(leaves.slice(0, size2)),
          };
          const proof = consistencyProof(size1, leaves.slice(0, size2));
          expect(verifyConsistency({ ...claim, proof })).toBe(true);
          if (size1 < size2) {
            expect(verifyConsistency({ ...claim, root1: claim.root2, proof })).toBe(false);
          }
        }
      }
    });
  });

  describe('Given the inclusion proof vectors', () => {
    it('should find them', () => {
      expect(inclusionVectors.length).toBeGreaterThan(50);
    });

    it.each(inclusionVectors)('%s should be judged as the vector says', (_file, vector) => {
      const claim = {
        index: vector.leafIdx,
        size: vector.treeSize,
        leafHash: bytes(vector.leafHash),
        proof: (vector.proof ?? []).map(bytes),
        root: bytes(vector.root),
      };
      expect(verifyInclusion(claim)).toBe(!vector.wantErr);
      if (!vector.wantErr && matchesReferenceTree(vector.treeSize, vector.root)) {
        expect(inclusionProof(vector.leafIdx, leaves.slice(0, vector.treeSize)).map(base64)).toEqual(
          vector.proof ?? [],
        );
      }
    });
  });

  describe('Given the consistency proof vectors', () => {
    it('should find them', () => {
      expect(consistencyVectors.length).toBeGreaterThan(50);
    });

    it.each(consistencyVectors)('%s should be judged as the vector says', (_file, vector) => {
      const claim = {
        size1: vector.size1,
        size2: vector.size2,
        proof: (vector.proof ?? []).map(bytes),
        root1: bytes(vector.root1),
        root2: bytes(vector.root2),
      };
      expect(verifyConsistency(claim)).toBe(!vector.wantErr);
      if (!vector.wantErr && matchesReferenceTree(vector.size2, vector.root2)) {
        expect(consistencyProof(vector.size1, leaves.slice(0, vector.size2)).map(base64)).toEqual(
          vector.proof ?? [],
        );
      }
    });
  });

  describe('When asked for a proof outside the tree', () => {
    it.each([[-1], [3], [1.5]])('should refuse an inclusion proof for index %p of 3 leaves', (index) => {
      expect(() => inclusionProof(index, leaves.slice(0, 3))).toThrow(RangeError);
    });

    it.each([[-1], [0], [4], [0.5]])('should refuse a consistency proof from size %p to 3 leaves', (size) => {
      expect(() => consistencyProof(size, leaves.slice(0, 3))).toThrow(RangeError);
    });
  });

  describe('When the old tree is empty', () => {
    it('should reject any consistency claim, even between two empty trees', () => {
      const empty = merkleRoot([]);
      expect(verifyConsistency({ size1: 0, size2: 0, proof: [], root1: empty, root2: empty })).toBe(false);
      expect(
        verifyConsistency({
          size1: 0,
          size2: 1,
          proof: [],
          root1: empty,
          root2: merkleRoot(leaves.slice(0, 1)),
        }),
      ).toBe(false);
    });
  });

  describe('When sizes exceed 32 bits', () => {
    it('should verify a proof for the last leaf of a 2^40-leaf tree built from one repeated subtree', () => {
      // A perfect tree of identical leaves: every level's sibling is the level's own hash.
      const levels = [merkleLeafHash(new Uint8Array([42]))];
      for (let level = 1; level <= 40; level++) {
        const below = levels[level - 1] as Uint8Array;
        levels.push(merkleNodeHash(below, below));
      }
      expect(
        verifyInclusion({
          index: 2n ** 40n - 1n,
          size: 2n ** 40n,
          leafHash: levels[0] as Uint8Array,
          proof: levels.slice(0, 40),
          root: levels[40] as Uint8Array,
        }),
      ).toBe(true);
    });
  });
});

function matchesReferenceTree(size: number, rootBase64: string): boolean {
  return reference.rootHashesBySize[size] === hex(bytes(rootBase64));
}

function bytes(base64Text: string): Uint8Array {
  return new Uint8Array(Buffer.from(base64Text, 'base64'));
}

function base64(value: Uint8Array): string {
  return Buffer.from(value).toString('base64');
}

function hex(value: Uint8Array): string {
  return Buffer.from(value).toString('hex');
}

interface ReferenceTree {
  leafInputsHex: string[];
  rootHashesBySize: string[];
  nodeHashes: string[][];
}

interface InclusionVector {
  leafIdx: number;
  treeSize: number;
  root: string;
  leafHash: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}

interface ConsistencyVector {
  size1: number;
  size2: number;
  root1: string;
  root2: string;
  proof: string[] | null;
  desc: string;
  wantErr: boolean;
}
