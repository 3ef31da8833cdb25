import CompressNIO
import Foundation
import NIOCore

/// How Longhorn compresses each backup block: fixed per backup volume by its first backup.
public enum CompressionMethod: String, Sendable, Hashable, CaseIterable, CustomStringConvertible {
    case lz4
    case gzip
    case none

    /// The method Longhorn assumes when a cfg has an empty `CompressionMethod` (backups from before v1.5).
    public static let legacyDefault: CompressionMethod = .gzip

    public var description: String { rawValue }

    /// Parses a cfg value the way Longhorn does: empty means gzip (the legacy default).
    ///
    /// - Throws: `BackupstoreError.Code.unsupported` for any other unknown name.
    public init(parsing text: String) throws(BackupstoreError) {
        if text.isEmpty {
            self = Self.legacyDefault
            return
        }
        guard let method = CompressionMethod(rawValue: text) else {
            throw BackupstoreError(
                .unsupported, subject: "compression method \"\(text)\"",
                detail: "unknown compression method; Longhorn uses lz4, gzip or none",
                hint: "a newer Longhorn may have added this method; upgrade longhorn-dr")
        }
        self = method
    }

    // MARK: - One block

    /// Compresses one block exactly as Longhorn's writer would frame it (LZ4 frame, gzip member, or raw).
    ///
    /// - Throws: `.compressionFailed` if zlib reports an error.
    public func compress(_ block: some ContiguousBytes) throws(BackupstoreError) -> [UInt8] {
        switch self {
        case .none:
            return block.withUnsafeBytes { Array($0) }
        case .lz4:
            return LZ4Frame.compress(block, options: .longhorn)
        case .gzip:
            var buffer = block.withUnsafeBytes { ByteBuffer(bytes: $0) }
            do {
                var compressed = try buffer.compress(with: .gzip())
                return compressed.readBytes(length: compressed.readableBytes) ?? []
            } catch {
                throw BackupstoreError(.compressionFailed, detail: "gzip compression failed", underlying: error)
            }
        }
    }

    /// Decompresses one block, refusing to produce more than `maxSize` bytes.
    ///
    /// - Throws: `.truncatedInput` when the data ends early, `.outputLimitExceeded` past `maxSize`,
    ///   `.checksumMismatch` for a bad LZ4/gzip checksum, or `.malformedLZ4` / `.decompressionFailed`.
    public func decompress(_ data: some ContiguousBytes, maxSize: Int) throws(BackupstoreError) -> [UInt8] {
        switch self {
        case .none:
            let bytes = data.withUnsafeBytes { Array($0) }
            guard bytes.count <= maxSize else {
                throw BackupstoreError(
                    .outputLimitExceeded, detail: "uncompressed block is \(bytes.count) bytes, limit \(maxSize)")
            }
            return bytes
        case .lz4:
            return try LZ4Frame.decompress(data, maxOutputSize: maxSize)
        case .gzip:
            return try Self.gunzip(data, maxSize: maxSize)
        }
    }

    private static func gunzip(_ data: some ContiguousBytes, maxSize: Int) throws(BackupstoreError) -> [UInt8] {
        var input = data.withUnsafeBytes { ByteBuffer(bytes: $0) }
        // One byte of headroom tells "exactly maxSize" apart from "more than maxSize".
        let capacity = maxSize == Int.max ? maxSize : maxSize + 1
        var output: ByteBuffer
        do {
            output = try input.decompress(with: .gzip(), maxSize: capacity)
        } catch let error as CompressNIOError {
            switch error {
            case .bufferOverflow:
                throw BackupstoreError(
                    .outputLimitExceeded, detail: "gzip data decompresses to more than \(maxSize) bytes",
                    underlying: error)
            case .inputBufferOverflow, .unfinished:
                throw BackupstoreError(
                    .truncatedInput, detail: "gzip data ends before its end marker", underlying: error)
            default:
                throw BackupstoreError(.decompressionFailed, detail: "gzip data is corrupt", underlying: error)
            }
        } catch {
            throw BackupstoreError(.decompressionFailed, detail: "gzip decompression failed", underlying: error)
        }
        guard output.readableBytes <= maxSize else {
            throw BackupstoreError(
                .outputLimitExceeded, detail: "gzip data decompresses to more than \(maxSize) bytes")
        }
        let bytes = output.readBytes(length: output.readableBytes) ?? []
        // zlib verifies the trailer only when it reaches the end of the stream; CompressNIO also returns
        // when the input runs out first. The trailer (CRC-32 and size of the output) matches only if the
        // stream really ended, so a mismatch here means the data was cut short.
        let trailerMatches = data.withUnsafeBytes { raw -> Bool in
            guard raw.count >= 18 else { return false }
            let crc = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: raw.count - 8, as: UInt32.self))
            let size = UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: raw.count - 4, as: UInt32.self))
            let actual = bytes.withUnsafeBytes { CRC32.checksum($0) }
            return crc == actual && size == UInt32(truncatingIfNeeded: bytes.count)
        }
        guard trailerMatches else {
            throw BackupstoreError(
                .truncatedInput,
                detail: "gzip data ends before its end marker (decoded \(bytes.count) bytes, trailer does not match)")
        }
        return bytes
    }

    /// The method whose magic number `data` starts with (gzip `1f 8b`, LZ4 frame `04 22 4d 18`), if any.
    static func detect(_ data: some ContiguousBytes) -> CompressionMethod? {
        data.withUnsafeBytes { raw in
            if raw.count >= 2, raw[0] == 0x1F, raw[1] == 0x8B { return .gzip }
            if raw.count >= 4,
                UInt32(littleEndian: raw.loadUnaligned(fromByteOffset: 0, as: UInt32.self)) == LZ4Frame.magic
            {
                return .lz4
            }
            return nil
        }
    }
}
