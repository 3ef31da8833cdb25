import Backupstore
import Foundation

/// `longhorn-dr-bench codec [--size-mib N] [--rounds R]`: the CPU side of `backup verify`, in memory and on
/// one thread, so it can be measured apart from the network and the S3 server.
///
/// Builds N MiB of 2 MiB blocks shaped like a used volume (text, random bytes, structured records and zero
/// runs mixed inside each block), then times, side by side in one run:
///   memcpy         copying each block (the ceiling for anything that touches every byte once);
///   lz4 encode     `LZ4Frame.compress` with Longhorn's options;
///   lz4 decode     `LZ4Frame.decompress` of those frames (content checksum checked);
///   lz4 dec no-xxh the same frames written without a content checksum: the block decoder alone;
///   xxhash32       `XXHash32.hash` of each block;
///   sha512 E       `BackupstoreLayout.checksum(of:engine:)`, the block name check `BackupReader` does,
///                  with each SHA-512 implementation (libcrypto, boringssl) that can run here;
///   decode+hash    what `BackupReader` does per fetched object: `CompressionMethod.lz4.decompress` of the
///                  stored `Data`, the length check and the SHA-512 name check;
///   reader verify  `BackupReader.verify` over an in-memory store (parallelism 1): the above plus the task
///                  group and config parsing, without the network.
/// `--only PATH` runs just that one (for a profiler). Every figure is MB/s (10^6 bytes) of uncompressed block data, the best of R passes over all blocks: by the
/// wall clock, and per second of the process's CPU time (steadier when other work shares the CPUs; for
/// one thread the two agree on a quiet machine).
enum CodecBench {
    static let blockSize = 2 << 20

    static func run(_ list: ArraySlice<String>) async throws {
        var sizeMiB = 256
        var rounds = 3
        var only: String?
        var items = Array(list)
        while !items.isEmpty {
            let flag = items.removeFirst()
            guard let value = items.first else { throw BenchError("\(flag) needs a value") }
            items.removeFirst()
            switch flag {
            case "--size-mib": sizeMiB = Int(value) ?? 0
            case "--rounds": rounds = Int(value) ?? 0
            case "--only": only = value
            default: throw BenchError("unknown flag \(flag); codec takes --size-mib N, --rounds R, --only PATH")
            }
        }
        guard sizeMiB >= 2, rounds >= 1 else { throw BenchError("--size-mib ≥ 2, --rounds ≥ 1") }

        let blocks = (0..<(sizeMiB / 2)).map { volumeLikeBlock(index: $0) }
        let names = blocks.map { BackupstoreLayout.checksum(of: $0) }
        let frames = blocks.map { Data(LZ4Frame.compress($0, options: .longhorn)) }
        let uncheckedFrames = blocks.map { LZ4Frame.compress($0, options: .init(contentChecksum: false)) }
        let logical = blocks.count * blockSize
        let stored = frames.reduce(0) { $0 + $1.count }
        print(
            "codec: \(blocks.count) blocks of 2 MiB, \(logical >> 20) MiB, lz4 frames \(stored >> 20) MiB "
                + "(ratio \(String(format: "%.2f", Double(stored) / Double(logical)))), best of \(rounds)")

        var sink: UInt64 = 0
        print("  " + "path".padding(toLength: 14, withPad: " ", startingAt: 0) + "   wall MB/s    CPU MB/s")
        func measure(_ label: String, _ body: () throws -> UInt64) rethrows {
            guard only == nil || only == label else { return }
            var best = Timing()
            for _ in 0..<rounds {
                let started = Timing.now()
                sink &+= try body()
                best = best.fastest(Timing.now().since(started))
            }
            report(label, best, bytes: logical)
        }

        let copy = UnsafeMutableRawBufferPointer.allocate(byteCount: blockSize, alignment: 16)
        defer { copy.deallocate() }
        measure("memcpy") {
            var total: UInt64 = 0
            for block in blocks {
                block.withUnsafeBytes { copy.copyMemory(from: $0) }
                total &+= UInt64(copy[Int(total) & (blockSize - 1)])
            }
            return total
        }
        measure("lz4 encode") {
            blocks.reduce(0) { $0 &+ UInt64(LZ4Frame.compress($1, options: .longhorn).count) }
        }
        try measure("lz4 decode") {
            var total: UInt64 = 0
            for frame in frames {
                total &+= UInt64(try LZ4Frame.decompress(frame, maxOutputSize: blockSize).count)
            }
            return total
        }
        try measure("lz4 dec no-xxh") {
            var total: UInt64 = 0
            for frame in uncheckedFrames {
                total &+= UInt64(try LZ4Frame.decompress(frame, maxOutputSize: blockSize).count)
            }
            return total
        }
        measure("xxhash32") {
            blocks.reduce(0) { $0 &+ UInt64(XXHash32.hash($1)) }
        }
        // Both SHA-512 implementations side by side; `verify` uses SHA512Engine.preferred.
        for engine in SHA512Engine.allCases {
            guard engine.isAvailable else {
                print("sha512 \(engine.rawValue): not available here (libcrypto.so.3 cannot be loaded)")
                continue
            }
            measure("sha512 \(engine.rawValue)") {
                blocks.reduce(0) { $0 &+ UInt64(BackupstoreLayout.checksum(of: $1, engine: engine).utf8.first ?? 0) }
            }
        }
        print("sha512 used by verify: \(SHA512Engine.preferred.summary) (LONGHORN_DR_SHA512=boringssl picks the linked one)")
        try measure("decode+hash") {
            var total: UInt64 = 0
            for (frame, name) in zip(frames, names) {
                let data = try CompressionMethod.lz4.decompress(frame, maxSize: blockSize)
                guard data.count == blockSize, BackupstoreLayout.checksum(of: data) == name else {
                    throw BenchError("a block did not verify")
                }
                total &+= UInt64(data.count)
            }
            return total
        }

        guard only == nil || only == "reader verify" else { return }
        let store = InMemoryObjectStore()
        try await seed(store, blocks: blocks)
        let reader = BackupReader(store: store)
        var best = Timing()
        for _ in 0..<rounds {
            let started = Timing.now()
            let result = try await reader.verify(volume: "codec-bench", backup: "codec-bench", parallelism: 1)
            best = best.fastest(Timing.now().since(started))
            sink &+= UInt64(result.bytesVerified)
        }
        report("reader verify", best, bytes: logical)
        print("(checksum of results, ignore: \(sink & 0xFFFF))")
    }

    /// Backs the blocks up into `store` as volume and backup `codec-bench` with Longhorn's lz4 settings.
    static func seed(_ store: InMemoryObjectStore, blocks: [[UInt8]]) async throws {
        let image = FileManager.default.temporaryDirectory
            .appendingPathComponent("longhorn-dr-codec-bench-\(UUID().uuidString).img")
        defer { try? FileManager.default.removeItem(at: image) }
        guard FileManager.default.createFile(atPath: image.path, contents: nil) else {
            throw BenchError("cannot create \(image.path)")
        }
        let handle = try FileHandle(forWritingTo: image)
        for block in blocks { try handle.write(contentsOf: block) }
        try handle.close()
        _ = try await BackupWriter(store: store).backup(
            imageAt: image, volumeName: "codec-bench", backupName: "codec-bench",
            options: .init(blockSize: blockSize), now: Date())
    }

    /// One 2 MiB block built from 4–64 KiB pieces, chosen per piece: about 45% text (log lines and
    /// config files), 25% random bytes (already compressed or encrypted files), 20% structured
    /// records (inode-table-like: small counters with zero padding) and 10% zeros. Every block differs.
    static func volumeLikeBlock(index: Int) -> [UInt8] {
        var generator = SplitMix64(seed: 0xC0DEC ^ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
        let words = [
            "longhorn", "backup", "volume", "block", "snapshot", "restore", "verify", "replica", "engine", "the",
            "a", "of", "to", "and", "checksum", "error", "info", "level=debug", "msg=", "time=2026-11-27T02:00:",
            "\n", "pvc-", "node", "kubelet", "GET", "/api/v1/namespaces/", "200", "404",
        ].map { Array($0.utf8) }
        var block = [UInt8](repeating: 0, count: blockSize)
        block.withUnsafeMutableBytes { raw in
            var position = 0
            while position < blockSize {
                let length = min(blockSize - position, 4096 << Int(generator.next() % 5))
                let kind = generator.next() % 20
                var at = position
                let end = position + length
                switch kind {
                case 0..<9:  // text
                    while at < end {
                        let word = words[Int(generator.next() % UInt64(words.count))]
                        for byte in word where at < end {
                            raw[at] = byte
                            at += 1
                        }
                        if at < end {
                            raw[at] = generator.next() % 5 == 0 ? UInt8(ascii: "0") + UInt8(generator.next() % 10) : 0x20
                            at += 1
                        }
                    }
                case 9..<14:  // random
                    while at + 8 <= end {
                        raw.storeBytes(of: generator.next(), toByteOffset: at, as: UInt64.self)
                        at += 8
                    }
                case 14..<18:  // structured records
                    var counter = generator.next() & 0xFFFF
                    while at + 32 <= end {
                        raw.storeBytes(of: counter, toByteOffset: at, as: UInt64.self)
                        raw.storeBytes(of: counter &* 4096, toByteOffset: at + 8, as: UInt64.self)
                        raw.storeBytes(of: UInt64(0x41ED_0000_03E8), toByteOffset: at + 16, as: UInt64.self)
                        counter &+= 1 + (generator.next() & 3)
                        at += 32
                    }
                default:  // zeros (already zero)
                    break
                }
                position = end
            }
        }
        return block
    }

    static func report(_ label: String, _ timing: Timing, bytes: Int) {
        let wall = Double(bytes) / timing.wall / 1e6
        let cpu = Double(bytes) / timing.cpu / 1e6
        print("  " + label.padding(toLength: 17, withPad: " ", startingAt: 0) + String(format: "%12.0f%12.0f", wall, cpu))
    }
}

/// Wall-clock and process CPU seconds; `fastest` keeps the best of each over several rounds.
struct Timing {
    var wall = Double.infinity
    var cpu = Double.infinity

    static func now() -> Timing {
        Timing(wall: read(CLOCK_MONOTONIC), cpu: read(CLOCK_PROCESS_CPUTIME_ID))
    }

    func since(_ start: Timing) -> Timing {
        Timing(wall: wall - start.wall, cpu: cpu - start.cpu)
    }

    func fastest(_ other: Timing) -> Timing {
        Timing(wall: min(wall, other.wall), cpu: min(cpu, other.cpu))
    }

    private static func read(_ clock: clockid_t) -> Double {
        var spec = timespec()
        clock_gettime(clock, &spec)
        return Double(spec.tv_sec) + Double(spec.tv_nsec) / 1e9
    }
}
