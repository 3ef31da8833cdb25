import AWS
import Backupstore
import BackupstoreS3
import CLITestSupport
import Crypto
import Foundation

/// A Longhorn backup in the local S3 store, written by Backupstore's `BackupWriter` from an ext4
/// image that `mke2fs -d` made out of a folder holding a sentinel file.
struct BackupFixture {
    var bucket: String
    var prefix: String
    var volume: String
    var backup: String
    var config: BackupConfig
    var sentinelPath: String
    var sentinelSHA256: String
    var layout: BackupstoreLayout

    var target: String { "s3://\(bucket)@\(TestServices.region)/\(prefix)" }

    /// Creates a bucket and writes one backup of a 16 MiB ext4 volume into it.
    static func make(
        _ services: TestServices, label: String, backupName: String = "backup-first", sentinel: String? = nil
    ) async throws -> BackupFixture {
        let bucket = TestServices.uniqueBucket(label)
        let prefix = "clusters/dev/"
        let volume = "pvc-\(label)"
        let content = sentinel ?? "longhorn-dr sentinel \(UUID().uuidString)\n"
        let image = try await makeExt4Image(files: ["sentinel.txt": content, "data/filler.bin": String(repeating: "filler-", count: 40_000)])
        defer { try? FileManager.default.removeItem(at: image.deletingLastPathComponent()) }
        let layout = BackupstoreLayout(prefix: prefix)
        let result = try await services.withS3 { client in
            try await client.createBucket(bucket)
            let writer = BackupWriter(store: S3ObjectStore(client: client, bucket: bucket), layout: layout)
            return try await writer.backup(imageAt: image, volumeName: volume, backupName: backupName, now: Date())
        }
        let digest = SHA256.hash(data: Data(content.utf8)).map { String(format: "%02x", $0) }.joined()
        return BackupFixture(
            bucket: bucket, prefix: prefix, volume: volume, backup: backupName, config: result.config,
            sentinelPath: "/sentinel.txt", sentinelSHA256: digest, layout: layout)
    }

    /// Writes another backup of a new image into the same volume, `delay` seconds later.
    func addBackup(_ services: TestServices, name: String, sentinel: String, createdAt: Date) async throws -> BackupConfig {
        let image = try await Self.makeExt4Image(files: ["sentinel.txt": sentinel])
        defer { try? FileManager.default.removeItem(at: image.deletingLastPathComponent()) }
        return try await services.withS3 { client in
            let writer = BackupWriter(store: S3ObjectStore(client: client, bucket: bucket), layout: layout)
            return try await writer.backup(imageAt: image, volumeName: volume, backupName: name, now: createdAt).config
        }
    }

    /// The key of the block at `index` in the backup's block list (sorted by offset).
    func blockKey(_ index: Int) -> (key: String, offset: Int64) {
        let mapping = config.blocks.sorted { $0.offset < $1.offset }[index]
        return (layout.blockKey(volume: volume, checksum: mapping.blockChecksum), mapping.offset)
    }

    /// A 16 MiB ext4 image holding `files` (relative path → content).
    static func makeExt4Image(files: [String: String]) async throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ldr-fixture-\(UUID().uuidString)")
        let root = folder.appendingPathComponent("root")
        for (path, content) in files {
            let url = root.appendingPathComponent(path)
            try FileManager.default.createDirectory(at: url.deletingLastPathComponent(), withIntermediateDirectories: true)
            try Data(content.utf8).write(to: url)
        }
        let image = folder.appendingPathComponent("volume.img")
        let mke2fs = try TestTool.locate("mke2fs", hint: "install e2fsprogs")
        try await TestTool.succeed(mke2fs, ["-q", "-F", "-t", "ext4", "-d", root.path, image.path, "16M"])
        return image
    }
}
