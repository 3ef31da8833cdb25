import AWS
import Backupstore
import BackupstoreS3
import Foundation

/// Helper for `scripts/bench`: seeds a Longhorn backup of a chosen size into an S3 store, and
/// measures the raw download throughput of that backup's block objects (GETs only, no
/// decompression or checksum), to compare with `longhorn-dr backup verify` on the same objects.
///
/// Usage (credentials from AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY):
///   longhorn-dr-bench seed  --endpoint URL --bucket B --volume V --size-mib N
///   longhorn-dr-bench raw   --endpoint URL --bucket B --volume V --parallelism N
///   longhorn-dr-bench codec [--size-mib N]   (in memory, no store: see CodecBench.swift)
///   longhorn-dr-bench json                   (JSONValue's parser against JSONDecoder: JSONBench.swift)
@main
struct BenchMain {
    static func main() async {
        do {
            if CommandLine.arguments.dropFirst().first == "json" {
                try JSONBench.run()
                return
            }
            if CommandLine.arguments.dropFirst().first == "codec" {
                try await CodecBench.run(CommandLine.arguments.dropFirst(2))
                return
            }
            let arguments = try Arguments(CommandLine.arguments.dropFirst())
            try await AWSHTTPClient.withClient { http in
                let store = try arguments.store(http: http)
                switch arguments.command {
                case "seed": try await seed(arguments, store: store)
                case "raw": try await raw(arguments, store: store)
                default: throw BenchError("unknown command \(arguments.command); use seed, raw or codec")
                }
            }
        } catch {
            FileHandle.standardError.write(Data("longhorn-dr-bench: \(error)\n".utf8))
            exit(1)
        }
    }

    /// Writes an image of `size-mib` MiB whose blocks are all different (each half pseudo-random,
    /// half a repeated pattern, so LZ4 has something to do, as on a real filesystem) and backs it up.
    static func seed(_ arguments: Arguments, store: S3ObjectStore) async throws {
        try await store.client.createBucket(store.bucket)
        let blockSize = 2 << 20
        let blocks = arguments.sizeMiB / 2
        let image = FileManager.default.temporaryDirectory.appendingPathComponent("longhorn-dr-bench-\(UUID().uuidString).img")
        defer { try? FileManager.default.removeItem(at: image) }
        guard FileManager.default.createFile(atPath: image.path, contents: nil) else { throw BenchError("cannot create \(image.path)") }
        let handle = try FileHandle(forWritingTo: image)
        var generator = SplitMix64(seed: UInt64(arguments.sizeMiB))
        for index in 0..<blocks {
            var block = [UInt8](repeating: 0, count: blockSize)
            if index % 50 != 49 {  // every 50th block stays zero: a hole, as in real volumes
                block.withUnsafeMutableBytes { raw in
                    let words = raw.bindMemory(to: UInt64.self)
                    for word in 0..<(words.count / 2) { words[word] = generator.next() }
                    let pattern = UInt64(index) &* 0x9E37_79B9_7F4A_7C15
                    for word in (words.count / 2)..<words.count { words[word] = pattern }
                }
            }
            try handle.write(contentsOf: block)
        }
        try handle.close()
        let started = ContinuousClock.now
        let result = try await BackupWriter(store: store).backup(
            imageAt: image, volumeName: arguments.volume, backupName: "bench-\(arguments.sizeMiB)mib",
            options: .init(blockSize: blockSize), now: Date())
        let seconds = Double((ContinuousClock.now - started).components.seconds)
        print("seeded volume \(arguments.volume): \(result.blocksListed) blocks, \(result.bytesUploaded) bytes uploaded in \(Int(seconds)) s")
    }

    /// Fetches every block object of the volume's newest backup, `parallelism` at a time, and
    /// prints one JSON line: objects, bytes and seconds.
    static func raw(_ arguments: Arguments, store: S3ObjectStore) async throws {
        let reader = BackupReader(store: store)
        let config = try await reader.latestCompletedBackup(volume: arguments.volume)
        let layout = BackupstoreLayout()
        let keys = Array(Set(config.blocks.map { layout.blockKey(volume: arguments.volume, checksum: $0.blockChecksum) }))
        let started = ContinuousClock.now
        var bytes: Int64 = 0
        try await withThrowingTaskGroup(of: Int.self) { group in
            var next = 0
            func startNext() {
                guard next < keys.count else { return }
                let key = keys[next]
                next += 1
                group.addTask { try await store.get(key).count }
            }
            for _ in 0..<arguments.parallelism { startNext() }
            while let count = try await group.next() {
                bytes += Int64(count)
                startNext()
            }
        }
        let elapsed = ContinuousClock.now - started
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let logical = Int64(config.blocks.count) * 2 << 20
        print(#"{"objects":\#(keys.count),"bytesFetched":\#(bytes),"logicalBytes":\#(logical),"seconds":\#(seconds)}"#)
    }
}

struct Arguments {
    var command: String
    var endpoint = ""
    var bucket = ""
    var volume = ""
    var sizeMiB = 1024
    var parallelism = 8
    var region = "us-east-1"

    init(_ list: ArraySlice<String>) throws {
        var items = Array(list)
        guard !items.isEmpty else {
            throw BenchError("usage: longhorn-dr-bench seed|raw|codec --endpoint URL --bucket B --volume V [--size-mib N] [--parallelism N]")
        }
        command = items.removeFirst()
        while !items.isEmpty {
            let flag = items.removeFirst()
            guard !items.isEmpty else { throw BenchError("\(flag) needs a value") }
            let value = items.removeFirst()
            switch flag {
            case "--endpoint": endpoint = value
            case "--bucket": bucket = value
            case "--volume": volume = value
            case "--region": region = value
            case "--size-mib": sizeMiB = Int(value) ?? 0
            case "--parallelism": parallelism = Int(value) ?? 0
            default: throw BenchError("unknown flag \(flag)")
            }
        }
        guard !endpoint.isEmpty, !bucket.isEmpty, !volume.isEmpty, sizeMiB >= 2, parallelism >= 1 else {
            throw BenchError("--endpoint, --bucket and --volume are required; --size-mib ≥ 2, --parallelism ≥ 1")
        }
    }

    func store(http: AWSHTTPClient) throws -> S3ObjectStore {
        let credentials = try AWSCredentialChain(environment: .process(), sources: [.environment]).resolveCredentials()
        let addressing = try S3Addressing(region: region, customEndpoint: endpoint)
        return S3ObjectStore(client: S3Client(http: http, addressing: addressing, credentials: credentials), bucket: bucket)
    }
}

struct BenchError: Error, CustomStringConvertible {
    var description: String
    init(_ description: String) { self.description = description }
}

/// A tiny deterministic generator, so every run seeds the same blocks.
struct SplitMix64 {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
