import CLITestSupport
import Foundation
import Testing

@testable import Backupstore

@Suite("Compression methods")
struct CompressionMethodTests {
    @Test("parsing: empty means gzip (Longhorn's legacy default); unknown is an error")
    func parsing() throws {
        #expect(try CompressionMethod(parsing: "") == .gzip)
        #expect(try CompressionMethod(parsing: "lz4") == .lz4)
        #expect(try CompressionMethod(parsing: "gzip") == .gzip)
        #expect(try CompressionMethod(parsing: "none") == .none)
        let error = #expect(throws: BackupstoreError.self) { try CompressionMethod(parsing: "zstd") }
        #expect(error?.code == .unsupported)
    }

    @Test("one block round-trips", arguments: CompressionMethod.allCases)
    func roundTrip(method: CompressionMethod) throws {
        let block = TestData.text(256 * 1024, seed: 31)
        let compressed = try method.compress(block)
        if method != .none { #expect(compressed.count < block.count / 2) }
        #expect(try method.decompress(compressed, maxSize: block.count) == block)
        #expect(try method.decompress(try method.compress([UInt8]()), maxSize: 0) == [])
    }

    @Test("more output than the limit is refused", arguments: CompressionMethod.allCases)
    func limit(method: CompressionMethod) throws {
        let block = [UInt8](repeating: 7, count: 100_000)
        let compressed = try method.compress(block)
        let error = #expect(throws: BackupstoreError.self) { try method.decompress(compressed, maxSize: 99_999) }
        #expect(error?.code == .outputLimitExceeded)
    }

    @Test("truncated gzip and lz4 data are errors", arguments: [CompressionMethod.gzip, .lz4])
    func truncated(method: CompressionMethod) throws {
        let block = TestData.text(50_000, seed: 32)
        let compressed = try method.compress(block)
        for cut in [0, 1, 10, 17, compressed.count / 2, compressed.count - 4, compressed.count - 1] {
            // Compare a Bool, not the output: a failure should not print 50 KB of bytes.
            var threw = false
            var code: BackupstoreError.Code?
            do {
                _ = try method.decompress(Array(compressed.prefix(cut)), maxSize: block.count)
            } catch {
                threw = true
                code = error.code
            }
            #expect(threw, "cut at \(cut) of \(compressed.count) decoded without an error")
            if cut > 0 { #expect(code == .truncatedInput, "cut at \(cut)") }
        }
    }

    @Test("magic detection")
    func detection() throws {
        #expect(CompressionMethod.detect(try CompressionMethod.gzip.compress([1, 2, 3])) == .gzip)
        #expect(CompressionMethod.detect(try CompressionMethod.lz4.compress([1, 2, 3])) == .lz4)
        #expect(CompressionMethod.detect([UInt8]([1, 2, 3])) == nil)
    }

    @Test("corrupt gzip data is an error")
    func corruptGzip() throws {
        let block = TestData.text(50_000, seed: 33)
        var compressed = try CompressionMethod.gzip.compress(block)
        compressed[compressed.count / 2] ^= 0xFF
        #expect(throws: BackupstoreError.self) { try CompressionMethod.gzip.decompress(compressed, maxSize: block.count) }
    }

    @Test("we read the gzip tool's output and it reads ours")
    func gzipInterop() async throws {
        let directory = try TemporaryDirectory()
        let block = TestData.text(100_000, seed: 34)
        let plain = directory.file("block")
        try Data(block).write(to: plain)
        let gzip = try Self.gzipTool()
        try await Self.run(gzip, ["-k", "-f", plain.path])
        let theirs = Array(try Data(contentsOf: directory.file("block.gz")))
        #expect(try CompressionMethod.gzip.decompress(theirs, maxSize: block.count) == block)

        let ours = directory.file("ours.gz")
        try Data(try CompressionMethod.gzip.compress(block)).write(to: ours)
        try await Self.run(gzip, ["-d", "-f", ours.path])
        #expect(Array(try Data(contentsOf: directory.file("ours"))) == block)
    }

    static func gzipTool() throws -> String { try TestTool.locate("gzip", hint: "install it with `apt-get install gzip`") }

    static func run(_ tool: String, _ arguments: [String]) async throws { try await TestTool.succeed(tool, arguments) }
}
