import AWS
import Backupstore
import BackupstoreS3
import CLITestSupport
import Crypto
import Foundation
import Testing

/// `longhorn-dr backup verify` as a process against a backup in SeaweedFS.
@Suite("backup verify against SeaweedFS")
struct BackupVerifyCLITests {
    func verify(_ services: TestServices, _ fixture: BackupFixture, _ extra: [String] = [], environment: [String: String] = [:], endpoint: String? = nil)
        async throws -> CLIProcess.Result
    {
        try await CLIProcess.run(
            ["backup", "verify", "--target", fixture.target, "--volume", fixture.volume, "--endpoint", endpoint ?? services.s3Endpoint] + extra,
            environment: services.cliEnvironment.merging(environment) { $1 })
    }

    @Test("a good backup verifies and --file prints the sentinel's SHA-256")
    func verifiesAndExtracts() async throws {
        let services = try TestServices.load()
        let fixture = try await BackupFixture.make(services, label: "good")
        let result = try await verify(services, fixture, ["--file", fixture.sentinelPath])
        #expect(result.status == 0, "\(result.all)")
        #expect(result.stdout.contains("PASS backup \(fixture.backup) of volume \(fixture.volume)"))
        #expect(result.stdout.contains("sha256:      \(fixture.sentinelSHA256)"))
        #expect(result.stdout.contains("\(fixture.config.blocks.count) verified"))
    }

    @Test("--output json reports the blocks and the file hash")
    func jsonOutput() async throws {
        let services = try TestServices.load()
        let fixture = try await BackupFixture.make(services, label: "json")
        let result = try await verify(services, fixture, ["--file", "sentinel.txt", "--output", "json", "--parallelism", "2"])
        #expect(result.status == 0, "\(result.all)")
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["result"] as? String == "pass")
        #expect(object["backup"] as? String == fixture.backup)
        #expect(object["blocksVerified"] as? Int == fixture.config.blocks.count)
        #expect((object["file"] as? [String: Any])?["sha256"] as? String == fixture.sentinelSHA256)
    }

    @Test("without --backup the newest completed backup is verified")
    func picksLatest() async throws {
        let services = try TestServices.load()
        let fixture = try await BackupFixture.make(services, label: "latest")
        let newer = "newest sentinel\n"
        _ = try await fixture.addBackup(services, name: "backup-second", sentinel: newer, createdAt: Date().addingTimeInterval(60))
        // An in-progress backup (no CreatedTime) must be passed over, however new.
        try await services.withS3 { client in
            let marker = BackupConfig(name: "backup-running", volumeName: fixture.volume, compressionMethod: .lz4)
            try await client.putObject(
                bucket: fixture.bucket, key: fixture.layout.backupConfigKey(volume: fixture.volume, backup: "backup-running"),
                body: marker.backupstoreJSON())
        }
        let result = try await verify(services, fixture, ["--file", "/sentinel.txt"])
        #expect(result.status == 0, "\(result.all)")
        #expect(result.stdout.contains("PASS backup backup-second"))
        let digest = try BackupFixtureDigest.sha256(newer)
        #expect(result.stdout.contains(digest))
        // --backup still picks an older one.
        let older = try await verify(services, fixture, ["--backup", fixture.backup])
        #expect(older.status == 0, "\(older.all)")
        #expect(older.stdout.contains("PASS backup \(fixture.backup)"))
    }

    @Test("a missing block fails with exit 1 naming the offset and key")
    func missingBlock() async throws {
        let services = try TestServices.load()
        let fixture = try await BackupFixture.make(services, label: "missing")
        let block = fixture.blockKey(0)
        try await services.withS3 { client in try await client.deleteObject(bucket: fixture.bucket, key: block.key) }
        let result = try await verify(services, fixture)
        #expect(result.status == 1, "\(result.all)")
        #expect(result.stderr.contains("blockMissing"))
        #expect(result.stderr.contains("offset \(block.offset)"))
        #expect(result.stderr.contains(block.key))
    }

    @Test("a flipped byte in a block fails with exit 1 naming the offset and key")
    func flippedByte() async throws {
        let services = try TestServices.load()
        let fixture = try await BackupFixture.make(services, label: "flipped")
        let block = fixture.blockKey(1)
        try await services.withS3 { client in
            var data = try await client.getObject(bucket: fixture.bucket, key: block.key)
            // Flip a byte in the middle of the LZ4 payload: either the frame checksum, the decoder or the
            // SHA-512 catches it, and each must fail the verification.
            data[data.startIndex + data.count / 2] ^= 0x40
            try await client.putObject(bucket: fixture.bucket, key: block.key, body: data)
        }
        let result = try await verify(services, fixture, ["--output", "json"])
        #expect(result.status == 1, "\(result.all)")
        #expect(result.stderr.contains("offset \(block.offset)"))
        #expect(result.stderr.contains(block.key))
        let object = try #require(try JSONSerialization.jsonObject(with: Data(result.stdout.utf8)) as? [String: Any])
        #expect(object["result"] as? String == "fail")
        #expect(object["key"] as? String == block.key)
        #expect((object["offset"] as? NSNumber)?.int64Value == block.offset)
    }

    @Test("a truncated block fails with exit 1 naming the offset and key")
    func truncatedBlock() async throws {
        let services = try TestServices.load()
        let fixture = try await BackupFixture.make(services, label: "truncated")
        let block = fixture.blockKey(0)
        try await services.withS3 { client in
            let data = try await client.getObject(bucket: fixture.bucket, key: block.key)
            try await client.putObject(bucket: fixture.bucket, key: block.key, body: data.prefix(data.count / 2))
        }
        let result = try await verify(services, fixture)
        #expect(result.status == 1, "\(result.all)")
        #expect(result.stderr.contains("blockTruncated"))
        #expect(result.stderr.contains("offset \(block.offset)"))
        #expect(result.stderr.contains(block.key))
    }

    @Test("a cfg listing a block that is not in the store fails with exit 1")
    func cfgListsAbsentBlock() async throws {
        let services = try TestServices.load()
        let fixture = try await BackupFixture.make(services, label: "phantom")
        var config = fixture.config
        let blockSize = Int64(try config.blockSize())
        let phantomOffset = (config.blocks.map(\.offset).max() ?? 0) + blockSize
        let phantomChecksum = String(repeating: "ab", count: 32)
        config.blocks.append(BlockMapping(offset: phantomOffset, blockChecksum: phantomChecksum))
        try await services.withS3 { client in
            try await client.putObject(
                bucket: fixture.bucket, key: fixture.layout.backupConfigKey(volume: fixture.volume, backup: fixture.backup),
                body: config.backupstoreJSON())
        }
        let result = try await verify(services, fixture)
        #expect(result.status == 1, "\(result.all)")
        #expect(result.stderr.contains("offset \(phantomOffset)"))
        #expect(result.stderr.contains(fixture.layout.blockKey(volume: fixture.volume, checksum: phantomChecksum)))
    }

    @Test("wrong keys exit 3 with the S3 code")
    func wrongKeys() async throws {
        let services = try TestServices.load()
        let fixture = try await BackupFixture.make(services, label: "badkeys")
        let badSecret = try await verify(services, fixture, environment: ["AWS_SECRET_ACCESS_KEY": "wrong-secret"])
        #expect(badSecret.status == 3, "\(badSecret.all)")
        #expect(badSecret.stderr.contains("SignatureDoesNotMatch"))
        let badKey = try await verify(services, fixture, environment: ["AWS_ACCESS_KEY_ID": "AKIDNOSUCHKEY"])
        #expect(badKey.status == 3, "\(badKey.all)")
        #expect(badKey.stderr.contains("InvalidAccessKeyId"))
        #expect(!badKey.all.contains(services.secretKey))
    }

    @Test("no credentials at all exit 3 listing where it looked")
    func noCredentials() async throws {
        let services = try TestServices.load()
        let fixture = try await BackupFixture.make(services, label: "nocreds")
        let result = try await verify(services, fixture, environment: ["AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": ""])
        #expect(result.status == 3, "\(result.all)")
        #expect(result.stderr.contains("no AWS credentials found"))
    }

    @Test("a missing bucket exits 4 naming the bucket")
    func missingBucket() async throws {
        let services = try TestServices.load()
        var fixture = try await BackupFixture.make(services, label: "nobucket")
        fixture.bucket = TestServices.uniqueBucket("gone")
        let result = try await verify(services, fixture)
        #expect(result.status == 4, "\(result.all)")
        #expect(result.stderr.contains("NoSuchBucket"))
        #expect(result.stderr.contains(fixture.bucket))
    }

    @Test("an endpoint that is down exits 4")
    func endpointDown() async throws {
        let services = try TestServices.load()
        let fixture = try await BackupFixture.make(services, label: "down")
        let result = try await verify(services, fixture, endpoint: unreachableEndpoint)
        #expect(result.status == 4, "\(result.all)")
        #expect(result.stderr.contains("cannot reach http://127.0.0.1:1"))
    }

    @Test("an unknown volume exits 1 with a hint")
    func unknownVolume() async throws {
        let services = try TestServices.load()
        var fixture = try await BackupFixture.make(services, label: "novol")
        fixture.volume = "pvc-does-not-exist"
        let result = try await verify(services, fixture)
        #expect(result.status == 1, "\(result.all)")
        #expect(result.stderr.contains("pvc-does-not-exist"))
    }

    @Test("a file that is not in the image exits 1")
    func missingFile() async throws {
        let services = try TestServices.load()
        let fixture = try await BackupFixture.make(services, label: "nofile")
        let result = try await verify(services, fixture, ["--file", "/no/such/file"])
        #expect(result.status == 1, "\(result.all)")
        #expect(result.stderr.contains("/no/such/file"))
    }

    @Test("bad arguments exit 2")
    func badArguments() async throws {
        let services = try TestServices.load()
        let fixture = BackupFixture(
            bucket: "b", prefix: "", volume: "v", backup: "x", config: BackupConfig(name: "x", volumeName: "v", compressionMethod: .lz4),
            sentinelPath: "/s", sentinelSHA256: "", layout: BackupstoreLayout())
        let badTarget = try await CLIProcess.run(
            ["backup", "verify", "--target", "nfs://server/path", "--volume", "v"], environment: services.cliEnvironment)
        #expect(badTarget.status == 2, "\(badTarget.all)")
        #expect(badTarget.stderr.contains("s3://bucket@region/path/"))
        let badParallelism = try await verify(services, fixture, ["--parallelism", "0"])
        #expect(badParallelism.status == 2, "\(badParallelism.all)")
    }

    @Test("--aws-cli takes credentials from `aws configure export-credentials`, run without a shell")
    func awsCLICredentials() async throws {
        let services = try TestServices.load()
        let fixture = try await BackupFixture.make(services, label: "awscli")
        // A stand-in `aws` that checks its arguments arrive as separate words and prints process JSON.
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("ldr-awscli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: folder) }
        let script = """
            #!/bin/sh
            [ "$1 $2 $3 $4 $5" = "configure export-credentials --format process --profile" ] || { echo "bad args: $*" >&2; exit 9; }
            [ "$6" = 'odd profile;$(x)' ] || { echo "bad profile: $6" >&2; exit 9; }
            printf '{"Version": 1, "AccessKeyId": "%s", "SecretAccessKey": "%s"}' "$FAKE_KEY" "$FAKE_SECRET"
            """
        let aws = folder.appendingPathComponent("aws")
        try Data(script.utf8).write(to: aws)
        try FileManager.default.setAttributes([.posixPermissions: 0o755], ofItemAtPath: aws.path)
        let environment = [
            "PATH": folder.path + ":" + (ProcessInfo.processInfo.environment["PATH"] ?? "/usr/bin:/bin"),
            "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
            "FAKE_KEY": services.accessKey, "FAKE_SECRET": services.secretKey,
        ]
        let result = try await verify(services, fixture, ["--aws-cli", "--profile", "odd profile;$(x)"], environment: environment)
        #expect(result.status == 0, "\(result.all)")
        #expect(result.stdout.contains("aws CLI"))
        #expect(!result.all.contains(services.secretKey))
    }
}

enum BackupFixtureDigest {
    static func sha256(_ text: String) throws -> String {
        SHA256.hash(data: Data(text.utf8)).map { String(format: "%02x", $0) }.joined()
    }
}
