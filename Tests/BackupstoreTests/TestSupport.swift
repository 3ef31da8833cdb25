import CLITestSupport
import Foundation
import Testing

@testable import Backupstore

/// SplitMix64: a tiny seeded generator so random inputs and fuzz cases reproduce exactly.
struct SeededGenerator: RandomNumberGenerator {
    private var state: UInt64

    init(seed: UInt64) { state = seed }

    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}

enum TestData {
    /// How often a long CPU-bound test loop yields its thread. Swift Testing runs every test at
    /// once on the concurrency pool, which has one thread per core (two here): a loop that held
    /// one for seconds held back every other test, and the timing-sensitive ones (a pod that
    /// must finish within 30 s) failed under CI load.
    static let yieldEvery = 16

    /// Uniform random bytes: incompressible.
    static func random(_ count: Int, seed: UInt64) -> [UInt8] {
        var generator = SeededGenerator(seed: seed)
        var bytes = [UInt8](repeating: 0, count: count)
        bytes.withUnsafeMutableBytes { raw in
            var index = 0
            while index + 8 <= count {
                raw.storeBytes(of: generator.next(), toByteOffset: index, as: UInt64.self)
                index += 8
            }
            while index < count {
                raw[index] = UInt8(truncatingIfNeeded: generator.next())
                index += 1
            }
        }
        return bytes
    }

    /// Text-like data with repeats at many distances: compresses well but not trivially.
    static func text(_ count: Int, seed: UInt64) -> [UInt8] {
        let words = [
            "longhorn", "backup", "volume", "block", "snapshot", "restore", "verify", "replica", "engine",
            "the", "a", "of", "to", "and", "checksum", "sha512", "lz4", "gzip", "offset", "\n",
        ].map { Array($0.utf8) }
        var generator = SeededGenerator(seed: seed)
        var bytes: [UInt8] = []
        bytes.reserveCapacity(count + 16)
        while bytes.count < count {
            bytes.append(contentsOf: words[Int(generator.next() % UInt64(words.count))])
            bytes.append(UInt8(ascii: " "))
            if generator.next() % 7 == 0 {
                bytes.append(contentsOf: String(generator.next() % 100_000).utf8)
            }
        }
        return Array(bytes.prefix(count))
    }

    /// A long run of one byte with a few changes: extremely compressible.
    static func runs(_ count: Int) -> [UInt8] {
        var bytes = [UInt8](repeating: 0x41, count: count)
        var index = 0
        while index < count {
            bytes[index] = UInt8(truncatingIfNeeded: index / 4096)
            index += 4093
        }
        return bytes
    }
}

/// A temporary directory removed when the test ends.
final class TemporaryDirectory {
    let url: URL

    init() throws {
        url = FileManager.default.temporaryDirectory
            .appendingPathComponent("backupstore-tests-\(UUID().uuidString)", isDirectory: true)
        try FileManager.default.createDirectory(at: url, withIntermediateDirectories: true)
    }

    func file(_ name: String) -> URL { url.appendingPathComponent(name) }

    deinit {
        try? FileManager.default.removeItem(at: url)
    }
}

/// The reference `lz4` command line tool, found through PATH.
enum ReferenceLZ4 {
    /// Runs `lz4` with `arguments`; throws with its stderr on a non-zero exit. A missing tool is
    /// a failure, never a skip: these tests are the interoperability proof.
    static func run(_ arguments: [String]) async throws {
        try await TestTool.succeed(try TestTool.locate("lz4", hint: "install it with `apt-get install lz4`"), arguments)
    }

    /// Compresses `input` with `lz4 <options>` and returns the frame bytes.
    static func compress(_ input: [UInt8], options: [String], in directory: TemporaryDirectory) async throws -> [UInt8] {
        let source = directory.file("ref-in-\(UUID().uuidString)")
        let target = directory.file("ref-out-\(UUID().uuidString).lz4")
        try Data(input).write(to: source)
        try await run(options + ["-q", "-f", source.path, target.path])
        return Array(try Data(contentsOf: target))
    }

    /// Decompresses `frame` with `lz4 -d` and returns the content.
    static func decompress(_ frame: [UInt8], in directory: TemporaryDirectory) async throws -> [UInt8] {
        let source = directory.file("ref-in-\(UUID().uuidString).lz4")
        let target = directory.file("ref-out-\(UUID().uuidString)")
        try Data(frame).write(to: source)
        try await run(["-d", "-q", "-f", source.path, target.path])
        return Array(try Data(contentsOf: target))
    }
}
