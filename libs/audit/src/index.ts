export { canonicalize } from './canonical-json';
export {
  GENESIS_HASH,
  sha256Hex,
  auditHash,
  actionHash,
  chain,
  chainRows,
  type AuditRow,
  type AuditSeq,
} from './hash-chain';
export {
  ChainVerifier,
  verifyChain,
  type StoredAuditRow,
  type EnvelopeCopies,
  type ChainBreak,
  type ChainEntry,
  type ChainVerification,
  type ChainVerifierOptions,
} from './chain-verifier';
export {
  merkleLeafHash,
  merkleNodeHash,
  merkleRoot,
  inclusionProof,
  consistencyProof,
  verifyInclusion,
  verifyConsistency,
  type MerkleIndex,
} from './merkle-tree';
