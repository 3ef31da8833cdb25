import Foundation
import Testing

@testable import Backupstore

/// The block decoder copies with fixed 8- and 16-byte moves that may run past the current sequence. These
/// tests hold it to a byte-at-a-time decoder written straight from the format description: same output, same
/// failure (with the same message), and never a byte written outside `start..<limit`.
@Suite("LZ4 block decoder")
struct LZ4BlockDecoderTests {
    // MARK: Hand-made blocks

    @Test(
        "overlapping matches repeat the last offset bytes",
        arguments: [1, 2, 3, 4, 5, 6, 7, 8, 9, 15, 16, 17, 31])
    func overlappingMatches(offset: Int) throws {
        let history = (0..<offset).map { UInt8(0x61 + $0) }  // "abc…": every period visibly different
        // Short (fixed moves), around the 64-byte switch, and long (memmove doubling) lengths.
        for length in [4, 5, 7, 8, 9, 15, 16, 17, 18, 19, 31, 32, 33, 63, 64, 65, 100, 1000, 70_000] {
            let block =
                LZ4Blocks.sequence(literals: history, offset: offset, matchLength: length)
                + LZ4Blocks.lastLiterals([])
            let expected = (0..<(offset + length)).map { history[$0 % offset] }
            // Plenty of room after the output, and none at all (the exact copies near `limit`).
            for slack in [0, 1, 15, 16, 17, 100] {
                let decoded = try LZ4Blocks.decode(block, limit: expected.count + slack)
                #expect(decoded == expected, "offset \(offset) length \(length) slack \(slack)")
            }
            #expect(
                LZ4Blocks.failure(block, limit: expected.count - 1) == .outputOverflow,
                "offset \(offset) length \(length)")
        }
    }

    @Test("a match that ends exactly at the output limit, followed by an empty last sequence")
    func matchEndsAtLimit() throws {
        let literals = Array("0123456789".utf8)
        for length in [4, 14, 18, 19, 40, 64, 65, 300] {
            let block =
                LZ4Blocks.sequence(literals: literals, offset: 10, matchLength: length)
                + LZ4Blocks.lastLiterals([])
            let expected = (0..<(10 + length)).map { literals[$0 % 10] }
            #expect(try LZ4Blocks.decode(block, limit: expected.count) == expected, "length \(length)")
            #expect(LZ4Blocks.failure(block, limit: expected.count - 1) == .outputOverflow, "length \(length)")
        }
        // Non-overlapping (offset ≥ length) as well, and with an offset of 1 straight after one literal.
        let copy =
            LZ4Blocks.sequence(literals: Array(repeating: 7, count: 40), offset: 40, matchLength: 40)
            + LZ4Blocks.lastLiterals([])
        #expect(try LZ4Blocks.decode(copy, limit: 80) == Array(repeating: 7, count: 80))
        let run = LZ4Blocks.sequence(literals: [9], offset: 1, matchLength: 4) + LZ4Blocks.lastLiterals([])
        #expect(try LZ4Blocks.decode(run, limit: 5) == [9, 9, 9, 9, 9])
    }

    @Test(
        "literal and match lengths with 255-continuation bytes",
        arguments: [14, 15, 16, 269, 270, 271, 524, 525, 526, 1000, 66_000])
    func continuationLengths(length: Int) throws {
        let literals = TestData.random(length, seed: UInt64(length))
        // As the only (last) sequence, ending exactly at the limit and one byte past it.
        let last = LZ4Blocks.lastLiterals(literals)
        #expect(try LZ4Blocks.decode(last, limit: length) == literals)
        #expect(LZ4Blocks.failure(last, limit: length - 1) == .outputOverflow)
        #expect(
            LZ4Blocks.failure(Array(last.dropLast()), limit: length + 16)
                == .truncated("literal run passes the end of the block"))
        // Before a match whose length needs continuation bytes too (match code 15 + n).
        let offset = min(length, LZ4Block.maxOffset)
        let block =
            LZ4Blocks.sequence(literals: literals, offset: offset, matchLength: length)
            + LZ4Blocks.lastLiterals([1, 2, 3, 4, 5])
        var expected = literals
        for _ in 0..<length { expected.append(expected[expected.count - offset]) }
        expected += [1, 2, 3, 4, 5]
        #expect(try LZ4Blocks.decode(block, limit: expected.count) == expected)
        // The encoding is as the format describes it: 255s, then the remainder.
        if length >= 15 + 255 {
            #expect(last[1] == 255)
        }
    }

    @Test("malformed and truncated sequences fail as before")
    func malformed() {
        let expected: [([UInt8], LZ4Block.DecodeFailure)] = [
            ([], .truncated("empty compressed block")),
            ([0xF0], .truncated("block ends inside a literal length")),
            ([0xF0, 255, 255], .truncated("block ends inside a literal length")),
            ([0x20, 0x41], .truncated("literal run passes the end of the block")),
            ([0x10, 0x41, 0x01], .truncated("block ends inside a match offset")),
            ([0x10, 0x41, 0x00, 0x00], .malformed("match offset 0")),
            ([0x10, 0x41, 0x02, 0x00], .malformed("match offset 2 reaches before the start of the data")),
            ([0x1F, 0x41, 0x01, 0x00], .truncated("block ends inside a match length")),
            ([0x1F, 0x41, 0x01, 0x00, 255], .truncated("block ends inside a match length")),
            ([0x10, 0x41, 0x01, 0x00], .truncated("block ends before a sequence token")),
        ]
        for (block, failure) in expected {
            #expect(LZ4Blocks.failure(block, limit: 1000) == failure, "\(block)")
            #expect(LZ4Blocks.reference(block, history: [], limit: 1000, windowStart: 0) == .failure(failure))
        }
    }

    // MARK: Against the byte-at-a-time decoder

    @Test("4000 generated blocks, valid and damaged, decode exactly as the byte-at-a-time decoder does")
    func differential() async throws {
        var generator = SeededGenerator(seed: 0x0B10_C4DE)
        var successes = 0
        for iteration in 0..<4000 {
            if iteration % TestData.yieldEvery == 0 { await Task.yield() }
            let historyCount = Int(generator.next() % 48)
            let history = TestData.text(historyCount, seed: UInt64(iteration))
            var block = LZ4Blocks.generate(history: history.count, using: &generator)
            if iteration % 3 == 2 {
                for _ in 0..<(1 + Int(generator.next() % 3)) { LZ4FuzzTests.mutate(&block, using: &generator) }
            }
            let windowStart = generator.next() % 4 == 0 ? Int(generator.next() % UInt64(historyCount + 1)) : 0
            let full = LZ4Blocks.reference(block, history: history, limit: 1 << 20, windowStart: windowStart)
            // Tight limits as well as loose ones, so the exact copies near the limit are exercised.
            let produced = (try? full.get().count) ?? Int(generator.next() % 2000)
            let limit = historyCount + max(0, produced - Int(generator.next() % 3) + Int(generator.next() % 3) * 9)
            let expected = LZ4Blocks.reference(block, history: history, limit: limit, windowStart: windowStart)
            let actual = LZ4Blocks.guarded(block, history: history, limit: limit, windowStart: windowStart)
            #expect(actual.result == expected, "iteration \(iteration)")
            #expect(actual.outsideUntouched, "iteration \(iteration): a byte outside start..<limit changed")
            if case .success = expected { successes += 1 }
        }
        #expect(successes > 1000)
    }

    @Test("compressor output of periodic data decodes exactly, with no write past the limit")
    func periodicRoundTrip() throws {
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: LZ4Block.worstCaseSize(20_000), alignment: 8)
        defer { scratch.deallocate() }
        let table = UnsafeMutableBufferPointer<Int32>.allocate(capacity: LZ4Block.hashTableSize)
        defer { table.deallocate() }
        for period in 1...24 {
            var input = TestData.text(20_000, seed: UInt64(period))
            for index in 0..<input.count where (index / 1000) % 2 == 0 {
                input[index] = input[index % period]
            }
            let length = try input.withUnsafeBytes { raw in
                try #require(LZ4Block.compress(raw, into: scratch, table: table))
            }
            let block = Array(scratch[0..<length])
            let result = LZ4Blocks.guarded(block, history: [], limit: input.count, windowStart: 0)
            #expect(result.result == .success(input), "period \(period)")
            #expect(result.outsideUntouched, "period \(period)")
        }
    }

    // MARK: Frames: the up-front output and the growing one agree

    @Test("frames decode the same with an exact limit, a loose one and no limit")
    func frameLimits() async throws {
        let inputs = [TestData.text(300_000, seed: 31), TestData.runs(200_000), TestData.random(70_000, seed: 32), []]
        for input in inputs {
            for options in LZ4ReferenceTests.ourOptions {
                await Task.yield()
                let frame = LZ4Frame.compress(input, options: options)
                #expect(try LZ4Frame.decompress(frame, maxOutputSize: input.count) == input)
                #expect(try LZ4Frame.decompress(frame, maxOutputSize: input.count + 1) == input)
                #expect(try LZ4Frame.decompress(frame, maxOutputSize: Int.max) == input)
                if !input.isEmpty {
                    let tight = #expect(throws: BackupstoreError.self) {
                        try LZ4Frame.decompress(frame, maxOutputSize: input.count - 1)
                    }
                    #expect(tight?.code == .outputLimitExceeded)
                }
            }
        }
    }

    @Test("a small result does not keep a large output allocation")
    func smallResultIsCompact() throws {
        let input = TestData.text(1000, seed: 33)
        let decoded = try LZ4Frame.decompress(LZ4Frame.compress(input), maxOutputSize: 16 << 20)
        #expect(decoded == input)
        #expect(decoded.capacity < 64 * 1024)
    }
}

/// Builds raw LZ4 blocks by hand and decodes them with the real decoder and with a reference one.
enum LZ4Blocks {
    /// One sequence: `literals`, then a match of `matchLength` (≥ 4) bytes at `offset` back.
    static func sequence(literals: [UInt8], offset: Int, matchLength: Int) -> [UInt8] {
        precondition(matchLength >= LZ4Block.minMatch && offset > 0 && offset <= LZ4Block.maxOffset)
        let literalCode = min(literals.count, 15)
        let matchCode = min(matchLength - LZ4Block.minMatch, 15)
        var bytes = [UInt8(literalCode << 4 | matchCode)]
        if literalCode == 15 { bytes += lengthBytes(literals.count - 15) }
        bytes += literals
        bytes += [UInt8(offset & 0xFF), UInt8(offset >> 8)]
        if matchCode == 15 { bytes += lengthBytes(matchLength - LZ4Block.minMatch - 15) }
        return bytes
    }

    /// The literals-only sequence that ends every block.
    static func lastLiterals(_ literals: [UInt8]) -> [UInt8] {
        let code = min(literals.count, 15)
        var bytes = [UInt8(code << 4)]
        if code == 15 { bytes += lengthBytes(literals.count - 15) }
        return bytes + literals
    }

    static func lengthBytes(_ rest: Int) -> [UInt8] {
        Array(repeating: 255, count: rest / 255) + [UInt8(rest % 255)]
    }

    /// A valid block that can follow `history` bytes of output: short and long literal runs, matches at
    /// small (overlapping) and large offsets, short and long lengths.
    static func generate(history: Int, using generator: inout SeededGenerator) -> [UInt8] {
        var bytes: [UInt8] = []
        var produced = history
        for _ in 0..<(Int(generator.next() % 12)) {
            let literalCount: Int
            switch generator.next() % 8 {
            case 0: literalCount = 15 + Int(generator.next() % 600)
            case 1, 2: literalCount = 0
            default: literalCount = Int(generator.next() % 20)
            }
            let literals = (0..<literalCount).map { _ in UInt8(0x30 + generator.next() % 40) }
            produced += literalCount
            guard produced > 0 else { continue }
            let offset =
                generator.next() % 2 == 0
                ? 1 + Int(generator.next() % UInt64(min(produced, 9)))
                : 1 + Int(generator.next() % UInt64(min(produced, LZ4Block.maxOffset)))
            let matchLength =
                generator.next() % 5 == 0
                ? LZ4Block.minMatch + Int(generator.next() % 700)
                : LZ4Block.minMatch + Int(generator.next() % 70)
            bytes += sequence(literals: literals, offset: offset, matchLength: matchLength)
            produced += matchLength
        }
        let tail = (0..<Int(generator.next() % 24)).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
        return bytes + lastLiterals(tail)
    }

    /// The real decoder with no history; returns the output or throws its failure.
    static func decode(_ block: [UInt8], limit: Int) throws(LZ4Block.DecodeFailure) -> [UInt8] {
        try guarded(block, history: [], limit: limit, windowStart: 0).result.get()
    }

    static func failure(_ block: [UInt8], limit: Int) -> LZ4Block.DecodeFailure? {
        do {
            _ = try decode(block, limit: limit)
            return nil
        } catch {
            return error
        }
    }

    /// The real decoder into a buffer holding `history` and, past `limit`, guard bytes; reports whether the
    /// history and the guard bytes survived.
    static func guarded(
        _ block: [UInt8], history: [UInt8], limit: Int, windowStart: Int
    ) -> (result: Result<[UInt8], LZ4Block.DecodeFailure>, outsideUntouched: Bool) {
        let guardBytes = 64
        let capacity = limit + guardBytes
        let buffer = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer { buffer.deallocate() }
        buffer.initialize(repeating: 0xA5, count: capacity)
        for (index, byte) in history.enumerated() { buffer[index] = byte }
        let start = history.count
        let result = block.withUnsafeBytes { raw -> Result<[UInt8], LZ4Block.DecodeFailure> in
            do throws(LZ4Block.DecodeFailure) {
                let end = try LZ4Block.decompress(raw, into: buffer, start: start, limit: limit, windowStart: windowStart)
                return .success(Array(UnsafeBufferPointer(start: buffer + start, count: end - start)))
            } catch {
                return .failure(error)
            }
        }
        let historyKept = history.indices.allSatisfy { buffer[$0] == history[$0] }
        let guardKept = (limit..<capacity).allSatisfy { buffer[$0] == 0xA5 }
        return (result, historyKept && guardKept)
    }

    /// The format, one byte at a time, with the checks in the order the decoder documents; the output after
    /// `history` or the failure.
    static func reference(
        _ block: [UInt8], history: [UInt8], limit: Int, windowStart: Int
    ) -> Result<[UInt8], LZ4Block.DecodeFailure> {
        guard !block.isEmpty else { return .failure(.truncated("empty compressed block")) }
        var output = history
        var ip = 0
        while true {
            guard ip < block.count else { return .failure(.truncated("block ends before a sequence token")) }
            let token = Int(block[ip])
            ip += 1
            var literalCount = token >> 4
            if literalCount == 15 {
                while true {
                    guard ip < block.count else { return .failure(.truncated("block ends inside a literal length")) }
                    let byte = Int(block[ip])
                    ip += 1
                    literalCount += byte
                    if byte != 255 { break }
                }
            }
            guard literalCount <= block.count - ip else {
                return .failure(.truncated("literal run passes the end of the block"))
            }
            guard literalCount <= limit - output.count else { return .failure(.outputOverflow) }
            output += block[ip..<(ip + literalCount)]
            ip += literalCount
            if ip == block.count { return .success(Array(output[history.count...])) }

            guard block.count - ip >= 2 else { return .failure(.truncated("block ends inside a match offset")) }
            let offset = Int(block[ip]) | Int(block[ip + 1]) << 8
            ip += 2
            guard offset != 0 else { return .failure(.malformed("match offset 0")) }
            guard offset <= output.count - windowStart else {
                return .failure(.malformed("match offset \(offset) reaches before the start of the data"))
            }
            var matchLength = token & 0x0F
            if matchLength == 15 {
                while true {
                    guard ip < block.count else { return .failure(.truncated("block ends inside a match length")) }
                    let byte = Int(block[ip])
                    ip += 1
                    matchLength += byte
                    if byte != 255 { break }
                }
            }
            matchLength += LZ4Block.minMatch
            guard matchLength <= limit - output.count else { return .failure(.outputOverflow) }
            for _ in 0..<matchLength {
                output.append(output[output.count - offset])
            }
        }
    }
}
