import Foundation

/// A pure-Swift codec for the LZ4 *frame* format (the `.lz4` file format, magic `0x184D2204`).
///
/// Longhorn compresses each backup block as one frame with Go's `github.com/pierrec/lz4/v4` writer at its
/// defaults: 4 MiB block maximum, independent blocks, content checksum on, no block checksums, no content
/// size. `Options.longhorn` reproduces that. The decoder accepts every variant the format allows except
/// dictionaries: linked or independent blocks, block and content checksums, content size, uncompressed
/// blocks, skippable frames and concatenated frames.
public enum LZ4Frame {
    /// The magic number that opens every LZ4 frame.
    public static let magic: UInt32 = 0x184D_2204
    /// Skippable frames use magics `0x184D2A50...0x184D2A5F`.
    static let skippableMagicMask: UInt32 = 0xFFFF_FFF0
    static let skippableMagicBase: UInt32 = 0x184D_2A50
    /// The pre-frame "legacy" format that `lz4 -l` writes.
    static let legacyMagic: UInt32 = 0x184C_2102
    static let uncompressedFlag: UInt32 = 0x8000_0000

    /// The maximum uncompressed size of one data block inside a frame (the BD byte).
    public enum BlockSize: UInt8, Sendable, CaseIterable {
        case max64KB = 4
        case max256KB = 5
        case max1MB = 6
        case max4MB = 7

        /// The block size in bytes.
        public var byteCount: Int { 1 << (8 + 2 * Int(rawValue)) }
    }

    /// What the encoder writes into a frame.
    public struct Options: Sendable, Hashable {
        public var blockSize: BlockSize
        /// Append an xxHash32 of each stored block.
        public var blockChecksum: Bool
        /// Append an xxHash32 of the whole uncompressed content.
        public var contentChecksum: Bool
        /// Record the uncompressed size in the frame header.
        public var includeContentSize: Bool

        public init(
            blockSize: BlockSize = .max4MB,
            blockChecksum: Bool = false,
            contentChecksum: Bool = true,
            includeContentSize: Bool = false
        ) {
            self.blockSize = blockSize
            self.blockChecksum = blockChecksum
            self.contentChecksum = contentChecksum
            self.includeContentSize = includeContentSize
        }

        /// The settings of pierrec/lz4 v4's `NewWriter`, which Longhorn uses for backup blocks.
        public static let longhorn = Options()
    }

    // MARK: - Encoding

    /// Compresses `input` into one LZ4 frame with independent blocks.
    ///
    /// Blocks that do not shrink are stored uncompressed (the high bit of the block size), as the reference
    /// implementation does.
    public static func compress(_ input: some ContiguousBytes, options: Options = .longhorn) -> [UInt8] {
        input.withUnsafeBytes { compress(buffer: $0, options: options) }
    }

    static func compress(buffer input: UnsafeRawBufferPointer, options: Options) -> [UInt8] {
        let blockMax = options.blockSize.byteCount
        let output = ByteAccumulator(capacity: LZ4Block.worstCaseSize(input.count) + 32)

        output.appendLE32(magic)
        var flags: UInt8 = 0b0100_0000  // version 01
        flags |= 0b0010_0000  // independent blocks: what every mainstream writer emits by default
        if options.blockChecksum { flags |= 0b0001_0000 }
        if options.includeContentSize { flags |= 0b0000_1000 }
        if options.contentChecksum { flags |= 0b0000_0100 }
        let descriptorStart = output.count
        output.append(flags)
        output.append(options.blockSize.rawValue << 4)
        if options.includeContentSize {
            let size = UInt64(input.count)
            output.appendLE32(UInt32(truncatingIfNeeded: size))
            output.appendLE32(UInt32(truncatingIfNeeded: size >> 32))
        }
        let headerChecksum = XXHash32.hash(buffer: UnsafeRawBufferPointer(rebasing: output.bytes[descriptorStart...]))
        output.append(UInt8(truncatingIfNeeded: headerChecksum >> 8))

        let table = UnsafeMutableBufferPointer<Int32>.allocate(capacity: LZ4Block.hashTableSize)
        defer { table.deallocate() }
        let scratch = UnsafeMutableRawBufferPointer.allocate(
            byteCount: LZ4Block.worstCaseSize(blockMax), alignment: 8)
        defer { scratch.deallocate() }

        var position = 0
        while position < input.count {
            let length = min(blockMax, input.count - position)
            let block = UnsafeRawBufferPointer(rebasing: input[position..<position + length])
            // Only keep the compressed form when it is strictly smaller, as the reference does.
            let stored: UnsafeRawBufferPointer
            var sizeField: UInt32
            if let compressed = LZ4Block.compress(block, into: scratch, table: table), compressed < length {
                stored = UnsafeRawBufferPointer(rebasing: scratch[0..<compressed])
                sizeField = UInt32(compressed)
            } else {
                stored = block
                sizeField = UInt32(length) | uncompressedFlag
            }
            output.appendLE32(sizeField)
            output.append(stored)
            if options.blockChecksum {
                output.appendLE32(XXHash32.hash(buffer: stored))
            }
            position += length
        }
        output.appendLE32(0)  // EndMark
        if options.contentChecksum {
            output.appendLE32(XXHash32.hash(buffer: input))
        }
        return output.toArray()
    }

    // MARK: - Decoding

    /// Decompresses every frame in `input` (skipping skippable frames) and returns the concatenated content.
    ///
    /// - Parameters:
    ///   - maxOutputSize: refuse to produce more than this many bytes (protects against decompression bombs
    ///     and corrupt size fields; for a backup block, pass the block size).
    /// - Throws: `BackupstoreError` with code `.truncatedInput` when the input ends early, `.checksumMismatch`
    ///   when a header, block or content checksum is wrong, `.outputLimitExceeded` when the content is larger
    ///   than `maxOutputSize`, `.unsupported` for dictionaries or the legacy format, and `.malformedLZ4` for
    ///   anything else that breaks the format (including input with no LZ4 frame at all).
    public static func decompress(
        _ input: some ContiguousBytes, maxOutputSize: Int
    ) throws(BackupstoreError) -> [UInt8] {
        let limit = max(0, maxOutputSize)
        let result: Result<[UInt8], BackupstoreError> = input.withUnsafeBytes { raw in
            guard limit > 0, limit <= directOutputLimit else {
                // No useful bound to allocate up front: grow as blocks arrive, then copy out.
                do throws(BackupstoreError) {
                    return .success(try decompress(buffer: raw, growingUpTo: limit))
                } catch {
                    return .failure(error)
                }
            }
            // The limit bounds the output (a backup block's size), so decode straight into the array's own
            // storage: no growth, no final copy of the whole content.
            var failure: BackupstoreError?
            let decoded = [UInt8](unsafeUninitializedCapacity: limit) { buffer, initialized in
                do throws(BackupstoreError) {
                    initialized = try decompress(buffer: raw, into: UnsafeMutableRawBufferPointer(buffer))
                } catch {
                    initialized = 0
                    failure = error
                }
            }
            if let failure { return .failure(failure) }
            // Do not let a small result pin a large allocation: copy it into one of its own size (an
            // `Array(decoded[...])` would share the storage).
            if decoded.count < limit / 2, limit > 64 * 1024 {
                return .success(decoded.withUnsafeBufferPointer { Array($0) })
            }
            return .success(decoded)
        }
        return try result.get()
    }

    /// Decompresses every frame in `input` into `output`, which also sets the output limit.
    ///
    /// For callers that reuse one buffer for many blocks: no allocation, and memory that is already mapped.
    /// The bytes of `output` past the returned count are unspecified (the decoder may have written there).
    ///
    /// - Returns: how many bytes of `output` hold the content.
    /// - Throws: as `decompress(_:maxOutputSize:)` with `maxOutputSize` = `output.count`.
    public static func decompress(
        _ input: some ContiguousBytes, into output: UnsafeMutableRawBufferPointer
    ) throws(BackupstoreError) -> Int {
        let result: Result<Int, BackupstoreError> = input.withUnsafeBytes { raw in
            do throws(BackupstoreError) {
                return .success(try decompress(buffer: raw, into: output))
            } catch {
                return .failure(error)
            }
        }
        return try result.get()
    }

    static func decompress(
        buffer input: UnsafeRawBufferPointer, into output: UnsafeMutableRawBufferPointer
    ) throws(BackupstoreError) -> Int {
        guard let base = output.baseAddress, output.count > 0 else {
            return try decompress(buffer: input, growingUpTo: 0).count
        }
        let accumulator = ByteAccumulator(borrowing: base, capacity: output.count)
        var decoder = FrameDecoder(input: input, maxOutputSize: output.count, output: accumulator)
        try decoder.decodeAll()
        return accumulator.count
    }

    /// Decodes into a buffer that grows as blocks arrive, then copies the content out.
    static func decompress(buffer input: UnsafeRawBufferPointer, growingUpTo limit: Int) throws(BackupstoreError) -> [UInt8] {
        let output = ByteAccumulator(capacity: min(limit, max(input.count * 2, 4096)))
        var decoder = FrameDecoder(input: input, maxOutputSize: limit, output: output)
        try decoder.decodeAll()
        return output.toArray()
    }

    /// Output limits up to this size are allocated whole before decoding (the largest block size
    /// `BackupReader` accepts); larger ones, such as `Int.max`, grow the output as it is decoded.
    static let directOutputLimit = 64 * 1024 * 1024
}

// MARK: - Frame decoder

/// A cursor over the input that never reads past its end.
private struct FrameDecoder {
    let input: UnsafeRawBufferPointer
    let maxOutputSize: Int
    var position = 0
    let output: ByteAccumulator

    /// - Parameters:
    ///   - output: where the content goes; it must be empty, and either able to grow or hold `maxOutputSize`.
    init(input: UnsafeRawBufferPointer, maxOutputSize: Int, output: ByteAccumulator) {
        self.input = input
        self.maxOutputSize = maxOutputSize
        self.output = output
    }

    var remaining: Int { input.count - position }

    /// Decodes every frame into `output`.
    mutating func decodeAll() throws(BackupstoreError) {
        var framesDecoded = 0
        while remaining > 0 {
            let frameStart = position
            let magic = try readLE32(what: "frame magic number")
            if magic & LZ4Frame.skippableMagicMask == LZ4Frame.skippableMagicBase {
                let size = Int(try readLE32(what: "skippable frame size"))
                guard size <= remaining else {
                    throw truncated(
                        "skippable frame at byte \(frameStart) claims \(size) bytes but only \(remaining) remain")
                }
                position += size
                continue
            }
            guard magic == LZ4Frame.magic else {
                if magic == LZ4Frame.legacyMagic {
                    throw BackupstoreError(
                        .unsupported, detail: "legacy LZ4 format (magic 0x184C2102) is not supported",
                        hint: "Longhorn never writes this format; the object is probably not a Longhorn block")
                }
                throw malformed(
                    "bad magic number 0x\(String(magic, radix: 16)) at byte \(frameStart)"
                        + (framesDecoded == 0 ? "; this is not LZ4 frame data" : " after frame \(framesDecoded)"))
            }
            try decodeFrame()
            framesDecoded += 1
        }
        guard framesDecoded > 0 else {
            throw malformed(input.count == 0 ? "empty input has no LZ4 frame" : "input holds only skippable frames")
        }
    }

    private mutating func decodeFrame() throws(BackupstoreError) {
        // Frame descriptor: FLG, BD, [content size], [dictionary id], header checksum.
        let descriptorStart = position
        let flags = try readByte(what: "frame flags")
        let bd = try readByte(what: "block descriptor")
        guard flags >> 6 == 0b01 else { throw malformed("unsupported frame version \(flags >> 6) (only 1 exists)") }
        guard flags & 0b0000_0010 == 0 else { throw malformed("reserved bit set in frame flags") }
        guard bd & 0b1000_1111 == 0 else { throw malformed("reserved bits set in block descriptor") }
        let independent = flags & 0b0010_0000 != 0
        let hasBlockChecksum = flags & 0b0001_0000 != 0
        let hasContentSize = flags & 0b0000_1000 != 0
        let hasContentChecksum = flags & 0b0000_0100 != 0
        let hasDictionary = flags & 0b0000_0001 != 0
        guard let blockSize = LZ4Frame.BlockSize(rawValue: (bd >> 4) & 0x07) else {
            throw malformed("invalid block maximum size id \((bd >> 4) & 0x07) (valid: 4...7)")
        }
        var contentSize: UInt64?
        if hasContentSize {
            let low = UInt64(try readLE32(what: "content size"))
            let high = UInt64(try readLE32(what: "content size"))
            contentSize = low | high << 32
        }
        if hasDictionary {
            throw BackupstoreError(
                .unsupported, detail: "LZ4 frame needs a dictionary (DictID flag set)",
                hint: "Longhorn never uses dictionaries; the object is probably not a Longhorn block")
        }
        let descriptor = UnsafeRawBufferPointer(rebasing: input[descriptorStart..<position])
        let expectedHeaderChecksum = UInt8(truncatingIfNeeded: XXHash32.hash(buffer: descriptor) >> 8)
        let headerChecksum = try readByte(what: "header checksum")
        guard headerChecksum == expectedHeaderChecksum else {
            throw BackupstoreError(
                .checksumMismatch,
                detail: "LZ4 frame header checksum is 0x\(String(headerChecksum, radix: 16)), "
                    + "expected 0x\(String(expectedHeaderChecksum, radix: 16))")
        }
        if let contentSize, contentSize > UInt64(maxOutputSize - output.count) {
            throw limitExceeded("frame header declares \(contentSize) bytes of content")
        }

        let frameOutputStart = output.count
        let blockMax = blockSize.byteCount
        var blockIndex = 0
        while true {
            let sizeField = try readLE32(what: "block size")
            if sizeField == 0 { break }  // EndMark
            let isUncompressed = sizeField & LZ4Frame.uncompressedFlag != 0
            let size = Int(sizeField & ~LZ4Frame.uncompressedFlag)
            guard size <= blockMax else {
                throw malformed("block \(blockIndex) is \(size) bytes, more than the frame's block maximum \(blockMax)")
            }
            guard size <= remaining else {
                throw truncated("block \(blockIndex) needs \(size) bytes but only \(remaining) remain")
            }
            let data = UnsafeRawBufferPointer(rebasing: input[position..<position + size])
            position += size
            if hasBlockChecksum {
                let stored = try readLE32(what: "block checksum")
                let actual = XXHash32.hash(buffer: data)
                guard stored == actual else {
                    throw BackupstoreError(
                        .checksumMismatch,
                        detail: "LZ4 block \(blockIndex) checksum is 0x\(String(stored, radix: 16)), "
                            + "data hashes to 0x\(String(actual, radix: 16))")
                }
            }
            if isUncompressed {
                guard size <= maxOutputSize - output.count else {
                    throw limitExceeded("block \(blockIndex) would grow the output past the limit")
                }
                output.append(data)
            } else {
                try decodeBlock(
                    data, index: blockIndex, blockMax: blockMax,
                    windowStart: independent ? output.count : frameOutputStart)
            }
            blockIndex += 1
        }

        let produced = output.count - frameOutputStart
        if hasContentChecksum {
            let stored = try readLE32(what: "content checksum")
            let actual = XXHash32.hash(buffer: UnsafeRawBufferPointer(rebasing: output.bytes[frameOutputStart...]))
            guard stored == actual else {
                throw BackupstoreError(
                    .checksumMismatch,
                    detail: "LZ4 content checksum is 0x\(String(stored, radix: 16)), "
                        + "decoded data hashes to 0x\(String(actual, radix: 16))")
            }
        }
        if let contentSize, contentSize != UInt64(produced) {
            throw malformed("frame header declares \(contentSize) bytes of content but the blocks hold \(produced)")
        }
    }

    private mutating func decodeBlock(
        _ data: UnsafeRawBufferPointer, index: Int, blockMax: Int, windowStart: Int
    ) throws(BackupstoreError) {
        let start = output.count
        let room = min(blockMax, maxOutputSize - start)
        // Decode straight into the output: linked blocks read earlier output as their window.
        output.reserve(room)
        let outcome: Result<Int, LZ4Block.DecodeFailure>
        do throws(LZ4Block.DecodeFailure) {
            outcome = .success(
                try LZ4Block.decompress(
                    data, into: output.base.assumingMemoryBound(to: UInt8.self), start: start, limit: start + room,
                    windowStart: windowStart))
        } catch {
            outcome = .failure(error)
        }
        switch outcome {
        case .success(let end):
            output.count = end
        case .failure(.outputOverflow):
            if room < blockMax {
                throw limitExceeded("block \(index) would grow the output past the limit")
            }
            throw malformed("block \(index) decodes to more than the frame's block maximum \(blockMax)")
        case .failure(.truncated(let why)):
            throw malformed("block \(index) is cut short: \(why)")
        case .failure(.malformed(let why)):
            throw malformed("block \(index): \(why)")
        }
    }

    // MARK: Reading primitives

    private mutating func readByte(what: String) throws(BackupstoreError) -> UInt8 {
        guard remaining >= 1 else { throw truncated("input ends before the \(what)") }
        let value = input[position]
        position += 1
        return value
    }

    private mutating func readLE32(what: String) throws(BackupstoreError) -> UInt32 {
        guard remaining >= 4 else { throw truncated("input ends before the \(what)") }
        let value = UInt32(littleEndian: input.loadUnaligned(fromByteOffset: position, as: UInt32.self))
        position += 4
        return value
    }

    private func truncated(_ detail: String) -> BackupstoreError {
        BackupstoreError(.truncatedInput, detail: "truncated LZ4 data: \(detail)")
    }

    private func malformed(_ detail: String) -> BackupstoreError {
        BackupstoreError(.malformedLZ4, detail: "malformed LZ4 data: \(detail)")
    }

    private func limitExceeded(_ detail: String) -> BackupstoreError {
        BackupstoreError(
            .outputLimitExceeded,
            detail: "LZ4 output limit of \(maxOutputSize) bytes exceeded: \(detail)",
            hint: "if this is a backup block, check the backup's block size (Parameters[\"backup-block-size\"])")
    }
}
