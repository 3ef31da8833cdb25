import Foundation

/// What a volume image holds, as a digest that the store and a restored volume can both compute:
/// the list of (offset, block checksum) of every block that is not all zeros, hashed per 1 GiB of
/// offsets and over all. The store side needs no block at all (a block's name *is* the SHA-512
/// of its data); the volume side reads every byte. Zero blocks are left out on both sides: Longhorn
/// keeps holes out of a backup, yet may store a written block of zeros.
///
/// Per-GiB segment digests let a mismatch name where the restored data differs.
public struct ImageDigest: Sendable, Hashable, Codable {
    /// The span of offsets one segment digest covers.
    public static let segmentSize: Int64 = 1 << 30

    public var blockSize: Int64
    /// Blocks that are not all zeros.
    public var dataBlocks: Int
    /// The digest of every segment's digest, in offset order.
    public var digest: String
    /// Segment index (offset / 1 GiB, in decimal) → digest of its blocks' `offset checksum`
    /// lines; segments without data are absent.
    public var segments: [String: String]

    /// The segments (by index) in which `self` and `other` differ: on one side only, or not equal.
    public func differingSegments(from other: ImageDigest) -> [Int64] {
        Set(segments.keys).union(other.segments.keys).filter { segments[$0] != other.segments[$0] }.compactMap { Int64($0) }.sorted()
    }

    /// Collects blocks in offset order and makes the digest.
    public struct Builder: Sendable {
        public let blockSize: Int64
        let zeroChecksum: String
        private var lines: [UInt8] = []
        private var segment: Int64?
        private var lastOffset: Int64 = -1
        private var digests: [String: String] = [:]
        private var blocks = 0

        public init(blockSize: Int64, engine: SHA512Engine = .preferred) {
            self.blockSize = blockSize
            zeroChecksum = BackupstoreLayout.checksum(of: [UInt8](repeating: 0, count: Int(blockSize)), engine: engine)
        }

        /// Adds the block at `offset` (ascending, each once) whose data has `checksum`; a
        /// checksum of an all-zero block is left out.
        public mutating func add(offset: Int64, checksum: String) {
            precondition(offset > lastOffset, "blocks are added in ascending offset order")
            lastOffset = offset
            guard checksum != zeroChecksum else { return }
            let index = offset / ImageDigest.segmentSize
            if index != segment { closeSegment() }
            segment = index
            lines.append(contentsOf: Array("\(offset) \(checksum)\n".utf8))
            blocks += 1
        }

        private mutating func closeSegment() {
            if let segment, !lines.isEmpty { digests[String(segment)] = BackupstoreLayout.checksum(of: lines) }
            lines.removeAll(keepingCapacity: true)
        }

        public mutating func finish() -> ImageDigest {
            closeSegment()
            segment = nil
            let all = digests.keys.compactMap { Int64($0) }.sorted().map { "\($0) \(digests[String($0)] ?? "")\n" }.joined()
            return ImageDigest(blockSize: blockSize, dataBlocks: blocks, digest: BackupstoreLayout.checksum(of: Array(all.utf8)), segments: digests)
        }
    }

    /// The digest of the image `config` describes, from its block list alone.
    public static func expected(for config: BackupConfig) throws(BackupstoreError) -> ImageDigest {
        var builder = Builder(blockSize: try config.blockSize())
        var last: Int64 = -1
        for block in config.blocks.sorted(by: { $0.offset < $1.offset }) where block.offset != last {
            builder.add(offset: block.offset, checksum: block.blockChecksum)
            last = block.offset
        }
        return builder.finish()
    }

    /// The digest of what `file` (a block device or an image file) holds, read in `blockSize`
    /// pieces from the start to its end; a short last piece is padded with zeros, as Longhorn
    /// reads it. `progress` is told the bytes read so far after every GiB.
    public static func read(
        file path: String, blockSize: Int64, engine: SHA512Engine = .preferred, progress: (Int64) -> Void = { _ in }
    ) throws(BackupstoreError) -> (digest: ImageDigest, bytesRead: Int64) {
        let descriptor = open(path, O_RDONLY | O_CLOEXEC)
        guard descriptor >= 0 else {
            throw BackupstoreError(.io, subject: path, detail: "cannot be opened for reading: \(String(cString: strerror(errno)))")
        }
        defer { close(descriptor) }
        var builder = Builder(blockSize: blockSize, engine: engine)
        var buffer = [UInt8](repeating: 0, count: Int(blockSize))
        var offset: Int64 = 0
        var reported: Int64 = 0
        while true {
            var filled = 0
            let failure: Int32? = buffer.withUnsafeMutableBytes { bytes in
                while filled < bytes.count {
                    let got = pread(descriptor, bytes.baseAddress! + filled, bytes.count - filled, off_t(offset) + off_t(filled))
                    if got < 0 {
                        if errno == EINTR { continue }
                        return errno
                    }
                    if got == 0 { break }
                    filled += got
                }
                return nil
            }
            if let failure {
                throw BackupstoreError(.io, subject: path, detail: "read failed at offset \(offset): \(String(cString: strerror(failure)))")
            }
            if filled == 0 { break }
            if filled < buffer.count { buffer.withUnsafeMutableBytes { _ = memset($0.baseAddress! + filled, 0, $0.count - filled) } }
            if !buffer.withUnsafeBytes(Self.isZero) {
                let checksum = buffer.withUnsafeBytes { BackupstoreLayout.checksum(of: $0, engine: engine) }
                builder.add(offset: offset, checksum: checksum)
            }
            offset += Int64(filled)
            if offset - reported >= 1 << 30 {
                reported = offset
                progress(offset)
            }
            if filled < buffer.count { break }
        }
        return (builder.finish(), offset)
    }

    /// Whether every byte is zero, compared eight at a time.
    static func isZero(_ bytes: UnsafeRawBufferPointer) -> Bool {
        let words = bytes.count / 8
        var index = 0
        while index < words {
            if bytes.loadUnaligned(fromByteOffset: index * 8, as: UInt64.self) != 0 { return false }
            index += 1
        }
        return bytes[(words * 8)...].allSatisfy { $0 == 0 }
    }
}
