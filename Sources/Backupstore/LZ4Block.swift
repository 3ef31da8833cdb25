/// The raw LZ4 *block* format: a sequence of (literals, match) pairs. The frame codec in `LZ4Frame` wraps it.
///
/// Both directions work on raw pointers: this is the hot loop of every restore, and Swift's bounds-checked
/// collection code is far too slow in debug builds. Every pointer access is guarded by an explicit length
/// check first, so malformed input throws instead of reading or writing out of bounds.
enum LZ4Block {
    /// Why block decoding stopped; the frame decoder turns these into `BackupstoreError`s with context.
    enum DecodeFailure: Error, Equatable {
        /// The block wants to write more bytes than the caller allowed.
        case outputOverflow
        /// The block ended in the middle of a sequence.
        case truncated(String)
        /// A match offset is zero or points before the start of the usable window.
        case malformed(String)
    }

    /// The minimum literal run at the end of a block (spec: "the last 5 bytes are always literals").
    static let lastLiterals = 5
    /// A match must start at least this many bytes before the end of the block (spec: MFLIMIT).
    static let matchFindLimit = 12
    static let minMatch = 4
    static let maxOffset = 65_535
    static let hashLog = 14
    static let hashTableSize = 1 << hashLog

    /// An upper bound of the compressed size of `count` input bytes (all literals plus length bytes).
    static func worstCaseSize(_ count: Int) -> Int {
        count + count / 255 + 16
    }

    // MARK: - Compression

    /// Compresses `source` into `destination` with a greedy single-probe hash matcher.
    ///
    /// - Returns: the compressed length, or `nil` if the output would not fit in `destination`
    ///   (callers then store the block uncompressed).
    static func compress(
        _ source: UnsafeRawBufferPointer,
        into destination: UnsafeMutableRawBufferPointer,
        table: UnsafeMutableBufferPointer<Int32>
    ) -> Int? {
        let count = source.count
        guard let src = source.baseAddress, let dst = destination.baseAddress, count > 0 else {
            return count == 0 ? 0 : nil
        }
        let capacity = destination.count
        var op = 0
        var anchor = 0

        if count > matchFindLimit, let slots = table.baseAddress {
            table.update(repeating: -1)
            let findLimit = count - matchFindLimit
            let matchLimit = count - lastLiterals
            var ip = 0
            var misses = 0
            while ip < findLimit {
                let sequence = XXHash32.readLE32(src, ip)
                let slot = hashSlot(sequence)
                let candidate = Int(slots[slot])
                slots[slot] = Int32(ip)
                guard candidate >= 0, ip - candidate <= maxOffset,
                    XXHash32.readLE32(src, candidate) == sequence
                else {
                    // Skip faster through data that does not match (LZ4's "acceleration").
                    misses += 1
                    ip += 1 + (misses >> 6)
                    continue
                }
                var matchStart = ip
                var referenceStart = candidate
                while matchStart > anchor, referenceStart > 0,
                    src.load(fromByteOffset: matchStart - 1, as: UInt8.self)
                        == src.load(fromByteOffset: referenceStart - 1, as: UInt8.self)
                {
                    matchStart -= 1
                    referenceStart -= 1
                }
                let matchEnd = ip + minMatch + commonLength(src, ip + minMatch, candidate + minMatch, limit: matchLimit)
                guard
                    emit(
                        src, literalStart: anchor, literalCount: matchStart - anchor,
                        offset: ip - candidate, matchLength: matchEnd - matchStart,
                        into: dst, at: &op, capacity: capacity)
                else { return nil }
                anchor = matchEnd
                ip = matchEnd
                misses = 0
                // Seed the table just behind the new position: cheap, and finds the next match more often.
                if ip - 2 >= 0, ip - 2 < findLimit {
                    slots[hashSlot(XXHash32.readLE32(src, ip - 2))] = Int32(ip - 2)
                }
            }
        }
        guard
            emit(
                src, literalStart: anchor, literalCount: count - anchor, offset: 0, matchLength: 0,
                into: dst, at: &op, capacity: capacity)
        else { return nil }
        return op
    }

    /// Writes one sequence at `dst[op...]`: the literals `src[literalStart..<literalStart+literalCount]`,
    /// then (if `matchLength > 0`) the match. Returns false, writing nothing, if it would pass `capacity`.
    @inline(__always)
    private static func emit(
        _ src: UnsafeRawPointer, literalStart: Int, literalCount: Int, offset: Int, matchLength: Int,
        into dst: UnsafeMutableRawPointer, at op: inout Int, capacity: Int
    ) -> Bool {
        let needed = 1 + literalCount / 255 + 1 + literalCount + 2 + matchLength / 255 + 1
        guard op + needed <= capacity else { return false }
        let tokenIndex = op
        op += 1
        var token: UInt8
        if literalCount >= 15 {
            token = 0xF0
            var rest = literalCount - 15
            while rest >= 255 {
                dst.storeBytes(of: 255, toByteOffset: op, as: UInt8.self)
                op += 1
                rest -= 255
            }
            dst.storeBytes(of: UInt8(rest), toByteOffset: op, as: UInt8.self)
            op += 1
        } else {
            token = UInt8(literalCount) << 4
        }
        if literalCount > 0 {
            (dst + op).copyMemory(from: src + literalStart, byteCount: literalCount)
            op += literalCount
        }
        if matchLength > 0 {
            dst.storeBytes(of: UInt8(offset & 0xFF), toByteOffset: op, as: UInt8.self)
            dst.storeBytes(of: UInt8(offset >> 8), toByteOffset: op + 1, as: UInt8.self)
            op += 2
            let code = matchLength - minMatch
            if code >= 15 {
                token |= 0x0F
                var rest = code - 15
                while rest >= 255 {
                    dst.storeBytes(of: 255, toByteOffset: op, as: UInt8.self)
                    op += 1
                    rest -= 255
                }
                dst.storeBytes(of: UInt8(rest), toByteOffset: op, as: UInt8.self)
                op += 1
            } else {
                token |= UInt8(code)
            }
        }
        dst.storeBytes(of: token, toByteOffset: tokenIndex, as: UInt8.self)
        return true
    }

    @inline(__always)
    private static func hashSlot(_ sequence: UInt32) -> Int {
        Int((sequence &* 2_654_435_761) >> UInt32(32 - hashLog))
    }

    /// How many bytes match from `a` and `b` onward, stopping at `limit` (exclusive) for `a`.
    @inline(__always)
    private static func commonLength(_ base: UnsafeRawPointer, _ a: Int, _ b: Int, limit: Int) -> Int {
        var i = a
        var j = b
        while i + 8 <= limit {
            let x = base.loadUnaligned(fromByteOffset: i, as: UInt64.self)
            let y = base.loadUnaligned(fromByteOffset: j, as: UInt64.self)
            if x != y {
                let diff = UInt64(littleEndian: x ^ y)
                return i - a + diff.trailingZeroBitCount / 8
            }
            i += 8
            j += 8
        }
        while i < limit, base.load(fromByteOffset: i, as: UInt8.self) == base.load(fromByteOffset: j, as: UInt8.self) {
            i += 1
            j += 1
        }
        return i - a
    }

    // MARK: - Decompression

    /// Decodes one block into `output[start..<limit]`.
    ///
    /// Every length is checked against the input end and `limit` before anything is copied, exactly as a
    /// byte-at-a-time decoder would, so malformed input fails the same way. Copies are then done in fixed
    /// 8- or 16-byte moves where there is room: such a move may write a few bytes past the end of the
    /// current sequence, but never at or past `limit` (the next sequence overwrites them, and bytes past
    /// the returned end are not part of the output), and only reads bytes that are already written. Near
    /// `limit` and for long runs, exact `memmove`s take over.
    ///
    /// - Parameters:
    ///   - windowStart: the lowest output index a match may copy from (the block start for independent
    ///     blocks, the frame start for linked blocks).
    /// - Returns: the output index just past the last decoded byte.
    /// - Throws: `DecodeFailure` on any malformed or truncated input, or when the output would pass `limit`.
    static func decompress(
        _ source: UnsafeRawBufferPointer,
        into output: UnsafeMutablePointer<UInt8>,
        start: Int,
        limit: Int,
        windowStart: Int
    ) throws(DecodeFailure) -> Int {
        let end = source.count
        guard let src = source.baseAddress, end > 0 else {
            throw .truncated("empty compressed block")
        }
        let out = UnsafeMutableRawPointer(output)
        // Arithmetic below wraps (`&+`) rather than trapping: it never comes near overflow, since ip stays in
        // 0...end, op in start...limit, and a length grows by at most 255 per input byte read. This leaves the
        // hot loop without overflow branches; the explicit checks against `end` and `limit` are what keep
        // every access in bounds.
        var ip = 0
        var op = start
        while true {
            guard ip < end else { throw .truncated("block ends before a sequence token") }
            let token = Int(src.load(fromByteOffset: ip, as: UInt8.self))
            ip &+= 1

            var literalCount = token >> 4
            if literalCount < 15, end &- ip >= 16, limit &- op >= 16 {
                // A short run (0...14 bytes) with room on both sides: one fixed move, no call.
                copy16(out + op, src + ip)
            } else {
                if literalCount == 15 {
                    while true {
                        guard ip < end else { throw .truncated("block ends inside a literal length") }
                        let byte = Int(src.load(fromByteOffset: ip, as: UInt8.self))
                        ip &+= 1
                        literalCount &+= byte
                        if byte != 255 { break }
                    }
                }
                guard literalCount <= end &- ip else { throw .truncated("literal run passes the end of the block") }
                guard literalCount <= limit &- op else { throw .outputOverflow }
                if literalCount > 0 {
                    (out + op).copyMemory(from: src + ip, byteCount: literalCount)
                }
            }
            ip &+= literalCount
            op &+= literalCount
            // The last sequence of a block has literals only.
            if ip == end { return op }

            guard end &- ip >= 2 else { throw .truncated("block ends inside a match offset") }
            let offset = Int(UInt16(littleEndian: src.loadUnaligned(fromByteOffset: ip, as: UInt16.self)))
            ip &+= 2
            guard offset != 0 else { throw .malformed("match offset 0") }
            guard offset <= op &- windowStart else {
                throw .malformed("match offset \(offset) reaches before the start of the data")
            }

            var matchLength = token & 0x0F
            if matchLength == 15 {
                while true {
                    guard ip < end else { throw .truncated("block ends inside a match length") }
                    let byte = Int(src.load(fromByteOffset: ip, as: UInt8.self))
                    ip &+= 1
                    matchLength &+= byte
                    if byte != 255 { break }
                }
            }
            matchLength &+= minMatch
            guard matchLength <= limit &- op else { throw .outputOverflow }

            copyMatch(out, at: op, offset: offset, length: matchLength, room: limit &- op)
            op &+= matchLength
        }
    }

    /// Matches up to this long, with room for the overrun, are copied in fixed moves rather than `memmove`s.
    static let shortMatch = 64

    /// Writes `out[at..<at+length]` as LZ4 defines a match: byte `i` is a copy of byte `i - offset`, so an
    /// `offset` shorter than `length` repeats the last `offset` bytes. `room` is how far `out` may be written
    /// from `at` (at least `length`); `out[(at-offset)..<at]` must be initialized.
    @inline(__always)
    private static func copyMatch(_ out: UnsafeMutableRawPointer, at op: Int, offset: Int, length: Int, room: Int) {
        let target = out + op
        let source = out + (op &- offset)
        // A fixed move of N bytes is right when offset >= N: everything it reads is already final.
        if length <= shortMatch, room >= length &+ 16 {
            var done = 0
            if offset >= 16 {
                repeat {
                    copy16(target + done, source + done)
                    done &+= 16
                } while done < length
            } else if offset >= 8 {
                repeat {
                    copy8(target + done, source + done)
                    done &+= 8
                } while done < length
            } else {
                // offset 1...7: the first 8 bytes one at a time; from there on the output repeats with
                // period `step`, the smallest multiple of `offset` that is at least 8, so 8-byte moves
                // from `step` back read only final bytes.
                repeat {
                    target.storeBytes(of: source.load(fromByteOffset: done, as: UInt8.self), toByteOffset: done, as: UInt8.self)
                    done &+= 1
                } while done < 8
                let step = offset * ((7 + offset) / offset)
                while done < length {
                    copy8(target + done, target + (done &- step))
                    done &+= 8
                }
            }
            return
        }
        if offset >= length {
            target.copyMemory(from: source, byteCount: length)
        } else {
            // Overlapping copy (a repeating pattern). Each chunk copies from `source`, and its length is a
            // multiple of `offset` until the last one, so the copied ranges never overlap and the chunks
            // double in size: RLE-like runs cost O(log n) copies rather than n single-byte moves.
            var written = 0
            while written < length {
                let chunk = min(offset + written, length - written)
                (target + written).copyMemory(from: source, byteCount: chunk)
                written += chunk
            }
        }
    }

    @inline(__always)
    private static func copy16(_ target: UnsafeMutableRawPointer, _ source: UnsafeRawPointer) {
        target.storeBytes(of: source.loadUnaligned(as: SIMD16<UInt8>.self), as: SIMD16<UInt8>.self)
    }

    @inline(__always)
    private static func copy8(_ target: UnsafeMutableRawPointer, _ source: UnsafeRawPointer) {
        target.storeBytes(of: source.loadUnaligned(as: UInt64.self), as: UInt64.self)
    }
}
