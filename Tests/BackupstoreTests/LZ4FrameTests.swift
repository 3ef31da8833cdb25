import Foundation
import Testing

@testable import Backupstore

/// Inputs shared by the interoperability tests: small, empty, incompressible, compressible, multi-MiB.
enum LZ4Inputs {
    static let cases: [(name: String, bytes: [UInt8])] = [
        ("empty", []),
        ("tiny", Array("hello, longhorn".utf8)),
        ("random-300KiB", TestData.random(300 * 1024 + 17, seed: 1)),
        ("text-1.5MiB", TestData.text(1_500_000, seed: 2)),
        ("runs-5MiB", TestData.runs(5 * 1024 * 1024 + 3)),
    ]

    static var names: [String] { cases.map(\.name) }

    static func bytes(_ name: String) -> [UInt8] {
        cases.first { $0.name == name }?.bytes ?? []
    }
}

@Suite("LZ4 frame against the reference lz4 tool")
struct LZ4ReferenceTests {
    static let referenceFlags: [[String]] = [
        [],  // the tool's defaults: -B7, independent blocks, content checksum
        ["-B4"],
        ["-B5", "-BD"],
        ["-B6", "-BX"],
        ["-B7", "--no-frame-crc"],
        ["-B4", "-BD", "-BX", "--content-size"],
        ["-B5", "-BD", "-BX", "--no-frame-crc"],
    ]

    @Test("we decode what lz4 encodes", arguments: LZ4Inputs.names, referenceFlags)
    func decodeReference(inputName: String, flags: [String]) async throws {
        let directory = try TemporaryDirectory()
        let input = LZ4Inputs.bytes(inputName)
        let frame = try await ReferenceLZ4.compress(input, options: flags, in: directory)
        let decoded = try LZ4Frame.decompress(frame, maxOutputSize: input.count)
        #expect(decoded == input, "lz4 \(flags) on \(inputName)")
    }

    static let ourOptions: [LZ4Frame.Options] = [
        .longhorn,
        LZ4Frame.Options(blockSize: .max64KB, blockChecksum: true, contentChecksum: true),
        LZ4Frame.Options(blockSize: .max256KB, blockChecksum: false, contentChecksum: false),
        LZ4Frame.Options(blockSize: .max1MB, blockChecksum: true, contentChecksum: false, includeContentSize: true),
        LZ4Frame.Options(blockSize: .max4MB, blockChecksum: true, contentChecksum: true, includeContentSize: true),
    ]

    @Test("lz4 decodes what we encode", arguments: LZ4Inputs.names, ourOptions)
    func referenceDecodes(inputName: String, options: LZ4Frame.Options) async throws {
        let directory = try TemporaryDirectory()
        let input = LZ4Inputs.bytes(inputName)
        let frame = LZ4Frame.compress(input, options: options)
        let decoded = try await ReferenceLZ4.decompress(frame, in: directory)
        #expect(decoded == input, "options \(options) on \(inputName)")
        // And we read our own output back.
        #expect(try LZ4Frame.decompress(frame, maxOutputSize: input.count) == input)
    }

    @Test("our Longhorn-default frame header is byte-identical to the tool's default header")
    func defaultHeaderMatchesReference() async throws {
        let directory = try TemporaryDirectory()
        // The tool shrinks the block size for inputs smaller than 4 MiB, so give it a big one.
        let input = LZ4Inputs.bytes("runs-5MiB")
        let reference = try await ReferenceLZ4.compress(input, options: [], in: directory)
        let ours = LZ4Frame.compress(input, options: .longhorn)
        #expect(Array(ours.prefix(7)) == Array(reference.prefix(7)))
        #expect(Array(ours.prefix(6)) == [0x04, 0x22, 0x4D, 0x18, 0x64, 0x70])
    }
}

@Suite("LZ4 frame codec")
struct LZ4FrameTests {
    @Test("round trip at every small length and around block boundaries")
    func roundTripLengths() throws {
        let source = TestData.text(70_000, seed: 9)
        var lengths = Array(0...40)
        lengths += [64, 255, 256, 270, 4096, 65_535, 65_536, 65_537, 70_000]
        for length in lengths {
            let input = Array(source.prefix(length))
            for options in LZ4ReferenceTests.ourOptions {
                let frame = LZ4Frame.compress(input, options: options)
                #expect(try LZ4Frame.decompress(frame, maxOutputSize: length) == input, "length \(length)")
            }
        }
    }

    @Test("incompressible blocks are stored uncompressed, compressible ones shrink")
    func storedBlocks() throws {
        let random = TestData.random(100_000, seed: 4)
        let frame = LZ4Frame.compress(random, options: .init(blockSize: .max64KB))
        // header 7 + 2 blocks (4-byte size each) + end mark + checksum: no expansion beyond framing.
        #expect(frame.count == random.count + 7 + 8 + 4 + 4)
        let runs = TestData.runs(1 << 20)
        #expect(LZ4Frame.compress(runs).count < 10_000)
    }

    @Test("concatenated frames and skippable frames")
    func concatenatedAndSkippable() throws {
        let first = TestData.text(5000, seed: 5)
        let second = TestData.random(3000, seed: 6)
        var stream: [UInt8] = [0x5A, 0x2A, 0x4D, 0x18, 3, 0, 0, 0, 0xAA, 0xBB, 0xCC]  // skippable, 3 bytes
        stream += LZ4Frame.compress(first)
        stream += [0x50, 0x2A, 0x4D, 0x18, 0, 0, 0, 0]  // empty skippable frame
        stream += LZ4Frame.compress(second, options: .init(blockSize: .max64KB, blockChecksum: true))
        #expect(try LZ4Frame.decompress(stream, maxOutputSize: 10_000) == first + second)
    }

    @Test("every strict prefix of a frame is rejected")
    func truncationRejected() throws {
        let input = TestData.text(3000, seed: 8)
        for options in LZ4ReferenceTests.ourOptions {
            let frame = LZ4Frame.compress(input, options: options)
            for cut in 0..<frame.count {
                #expect(throws: BackupstoreError.self, "cut at \(cut)") {
                    try LZ4Frame.decompress(Array(frame.prefix(cut)), maxOutputSize: 1 << 20)
                }
            }
        }
    }

    @Test("a flipped content byte fails the content checksum")
    func contentChecksum() {
        let input = TestData.random(1000, seed: 10)  // stored uncompressed: byte 11 is content byte 0
        var frame = LZ4Frame.compress(input, options: .init(blockChecksum: false, contentChecksum: true))
        frame[11] ^= 0x01
        let error = #expect(throws: BackupstoreError.self) { try LZ4Frame.decompress(frame, maxOutputSize: 2000) }
        #expect(error?.code == .checksumMismatch)
    }

    @Test("a flipped block byte fails the block checksum")
    func blockChecksum() {
        let input = TestData.text(5000, seed: 11)
        var frame = LZ4Frame.compress(input, options: .init(blockChecksum: true, contentChecksum: false))
        frame[20] ^= 0x40
        let error = #expect(throws: BackupstoreError.self) { try LZ4Frame.decompress(frame, maxOutputSize: 10_000) }
        #expect(error?.code == .checksumMismatch)
    }

    @Test("a changed header fails the header checksum")
    func headerChecksum() {
        var frame = LZ4Frame.compress(TestData.text(500, seed: 12))
        frame[5] = 0x60  // BD: 1 MiB blocks instead of 4 MiB, header checksum left as it was
        let error = #expect(throws: BackupstoreError.self) { try LZ4Frame.decompress(frame, maxOutputSize: 1000) }
        #expect(error?.code == .checksumMismatch)
    }

    @Test("output limit refuses decompression bombs")
    func outputLimit() throws {
        let zeros = [UInt8](repeating: 0, count: 4 << 20)
        let frame = LZ4Frame.compress(zeros)
        #expect(frame.count < 20_000)
        let error = #expect(throws: BackupstoreError.self) { try LZ4Frame.decompress(frame, maxOutputSize: 1 << 20) }
        #expect(error?.code == .outputLimitExceeded)
        // With a declared content size, the limit trips before any block is decoded.
        let sized = LZ4Frame.compress(zeros, options: .init(includeContentSize: true))
        let sizedError = #expect(throws: BackupstoreError.self) { try LZ4Frame.decompress(sized, maxOutputSize: 4096) }
        #expect(sizedError?.code == .outputLimitExceeded)
        let full = try LZ4Frame.decompress(frame, maxOutputSize: 4 << 20)
        #expect(full.count == 4 << 20)
    }

    @Test("not LZ4: empty input, garbage, legacy format")
    func notLZ4() {
        let empty = #expect(throws: BackupstoreError.self) { try LZ4Frame.decompress([UInt8](), maxOutputSize: 10) }
        #expect(empty?.code == .malformedLZ4)
        let gzipMagic = #expect(throws: BackupstoreError.self) {
            try LZ4Frame.decompress([0x1F, 0x8B, 0x08, 0x00, 0, 0, 0, 0], maxOutputSize: 10)
        }
        #expect(gzipMagic?.code == .malformedLZ4)
        let legacy = #expect(throws: BackupstoreError.self) {
            try LZ4Frame.decompress([0x02, 0x21, 0x4C, 0x18, 0, 0, 0, 0], maxOutputSize: 10)
        }
        #expect(legacy?.code == .unsupported)
    }

    @Test("a match reaching before the block start is rejected in independent blocks")
    func matchBeforeWindow() throws {
        // Hand-made block: token 0x10 (1 literal, match len 4), literal 'x', offset 2 -> reaches before start.
        let block: [UInt8] = [0x14, 0x78, 0x02, 0x00]
        var output = [UInt8](repeating: 0, count: 64)
        try output.withUnsafeMutableBufferPointer { out in
            try block.withUnsafeBytes { raw in
                let base = try #require(out.baseAddress)
                #expect(throws: LZ4Block.DecodeFailure.self) {
                    _ = try LZ4Block.decompress(raw, into: base, start: 0, limit: 64, windowStart: 0)
                }
            }
        }
    }
}
