import Foundation
import Testing

@testable import Backupstore

/// Mutated and truncated frames must either decode within the limit or throw; never trap or over-read.
/// Seeds are fixed so a failure reproduces; the iteration index is in every failure message.
@Suite("LZ4 fuzz")
struct LZ4FuzzTests {
    static let limit = 128 * 1024

    /// Valid frames of every shape to start mutating from (ours and the reference tool's).
    static func seedFrames() async throws -> [[UInt8]] {
        let directory = try TemporaryDirectory()
        // Small inputs (a few blocks at 64 KiB) keep 20000 debug-build decodes quick.
        let text = TestData.text(5000, seed: 21)
        let runs = TestData.runs(70_000)
        let random = TestData.random(1500, seed: 22)
        var frames: [[UInt8]] = []
        for options in LZ4ReferenceTests.ourOptions {
            frames.append(LZ4Frame.compress(text, options: options))
            frames.append(LZ4Frame.compress(runs, options: options))
        }
        // No checksums at all, so mutations reach the block decoder instead of stopping at a checksum.
        frames.append(LZ4Frame.compress(text, options: .init(blockSize: .max64KB, contentChecksum: false)))
        frames.append(LZ4Frame.compress(runs, options: .init(blockSize: .max64KB, contentChecksum: false)))
        frames.append(LZ4Frame.compress(random, options: .init(contentChecksum: false)))
        frames.append(try await ReferenceLZ4.compress(text, options: ["-B4", "-BD", "--no-frame-crc"], in: directory))
        frames.append(try await ReferenceLZ4.compress(runs, options: ["-B4", "-BD", "--no-frame-crc"], in: directory))
        return frames
    }

    // Async and yielding every few iterations: a long CPU-bound loop on one of the machine's two
    // cooperative threads stalls every test beside it (see TestData.yieldEvery).
    @Test("20000 mutated frames never crash")
    func mutatedFrames() async throws {
        let frames = try await Self.seedFrames()
        var generator = SeededGenerator(seed: 0x1234_5678)
        var decoded = 0
        var rejected = 0
        for iteration in 0..<20_000 {
            if iteration % TestData.yieldEvery == 0 { await Task.yield() }
            var frame = frames[iteration % frames.count]
            let mutations = 1 + Int(generator.next() % 4)
            for _ in 0..<mutations {
                Self.mutate(&frame, using: &generator)
            }
            do {
                let output = try LZ4Frame.decompress(frame, maxOutputSize: Self.limit)
                #expect(output.count <= Self.limit, "iteration \(iteration)")
                decoded += 1
            } catch {
                rejected += 1
            }
        }
        #expect(decoded + rejected == 20_000)
        #expect(rejected > 0)
    }

    @Test("10000 random and mutated raw blocks never crash the block decoder")
    func mutatedBlocks() async throws {
        var generator = SeededGenerator(seed: 99)
        let text = TestData.text(40_000, seed: 23)
        let scratch = UnsafeMutableRawBufferPointer.allocate(byteCount: LZ4Block.worstCaseSize(text.count), alignment: 8)
        defer { scratch.deallocate() }
        let table = UnsafeMutableBufferPointer<Int32>.allocate(capacity: LZ4Block.hashTableSize)
        defer { table.deallocate() }
        let length = try text.withUnsafeBytes { raw in
            try #require(LZ4Block.compress(raw, into: scratch, table: table))
        }
        let valid = Array(scratch[0..<length])
        let capacity = 64 * 1024
        let output = UnsafeMutablePointer<UInt8>.allocate(capacity: capacity)
        defer { output.deallocate() }
        for iteration in 0..<10_000 {
            if iteration % TestData.yieldEvery == 0 { await Task.yield() }
            var block: [UInt8]
            if iteration % 4 == 0 {
                block = TestData.random(1 + Int(generator.next() % 300), seed: UInt64(iteration))
            } else {
                block = valid
                for _ in 0..<(1 + Int(generator.next() % 3)) { Self.mutate(&block, using: &generator) }
            }
            // Decode into the middle of the buffer with a window start, as linked blocks do.
            let start = Int(generator.next() % 1024)
            let windowStart = Int(generator.next() % UInt64(start + 1))
            let end: Int? = block.withUnsafeBytes { raw in
                try? LZ4Block.decompress(raw, into: output, start: start, limit: capacity, windowStart: windowStart)
            }
            if let end {
                #expect(end >= start && end <= capacity, "iteration \(iteration)")
            }
        }
    }

    static func mutate(_ bytes: inout [UInt8], using generator: inout SeededGenerator) {
        guard !bytes.isEmpty else {
            bytes.append(UInt8(truncatingIfNeeded: generator.next()))
            return
        }
        // Half the mutations hit the data after the 7-byte header, so they get past the header checksum.
        let lowest = bytes.count > 8 && generator.next() % 2 == 0 ? 7 : 0
        let position = lowest + Int(generator.next() % UInt64(bytes.count - lowest))
        switch generator.next() % 6 {
        case 0:
            bytes[position] ^= UInt8(1 << (generator.next() % 8))
        case 1:
            bytes[position] = UInt8(truncatingIfNeeded: generator.next())
        case 2:
            bytes.removeSubrange(position...)
        case 3:
            let count = 1 + Int(generator.next() % 8)
            let extra = (0..<count).map { _ in UInt8(truncatingIfNeeded: generator.next()) }
            bytes.insert(contentsOf: extra, at: position)
        case 4:
            let end = min(bytes.count, position + 1 + Int(generator.next() % 16))
            bytes.removeSubrange(position..<end)
        default:
            // Extreme values in length fields: 0xFF runs and all-ones block sizes.
            let end = min(bytes.count, position + 1 + Int(generator.next() % 6))
            for index in position..<end { bytes[index] = 0xFF }
        }
    }
}
