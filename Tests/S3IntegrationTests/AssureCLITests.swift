import AWS
import Backupstore
import CLITestSupport
import Foundation
import Testing

/// `longhorn-dr assure` as a process against backups in SeaweedFS: the verdicts and exit codes a
/// CronJob or a monitoring script branches on.
@Suite("assure against SeaweedFS")
struct AssureCLITests {
    /// A restore config declaring `volumes` (name → maxAge or nil), in a folder of its own.
    static func config(_ volumes: [(String, String?)]) throws -> URL {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-assure-cli-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        let lines = volumes.enumerated().map { index, volume in
            "  - {name: \(volume.0), pvc: {namespace: apps, name: data-\(index)}, size: 16Mi\(volume.1.map { ", maxAge: \($0)" } ?? "")}"
        }
        let url = folder.appendingPathComponent("restore.yaml")
        try Data((["kind: RestoreConfig", "volumes:"] + lines).joined(separator: "\n").utf8).write(to: url)
        return url
    }

    func assure(
        _ services: TestServices, _ fixture: BackupFixture, config: URL, _ extra: [String] = [], environment: [String: String] = [:],
        endpoint: String? = nil
    ) async throws -> CLIProcess.Result {
        try await CLIProcess.run(
            ["assure", "--config", config.path, "--target", fixture.target, "--endpoint", endpoint ?? services.s3Endpoint] + extra,
            environment: services.cliEnvironment.merging(environment) { $1 })
    }

    @Test("a healthy volume passes; with a ledger the second run skips what the first verified; metrics are written")
    func healthyWithLedger() async throws {
        let services = try TestServices.load()
        let fixture = try await BackupFixture.make(services, label: "assure-ok")
        let config = try Self.config([(fixture.volume, "1h")])
        defer { try? FileManager.default.removeItem(at: config.deletingLastPathComponent()) }
        let ledger = config.deletingLastPathComponent().appendingPathComponent("state/ledger.json")
        let metrics = config.deletingLastPathComponent().appendingPathComponent("assure.prom")
        let arguments = ["--ledger", ledger.path, "--full-every", "30", "--output", "json", "--metrics-textfile", metrics.path]
        let first = try await assure(services, fixture, config: config, arguments)
        #expect(first.status == 0, "\(first.all)")
        let report = try #require(try JSONSerialization.jsonObject(with: Data(first.stdout.utf8)) as? [String: Any])
        let volume = try #require((report["volumes"] as? [[String: Any]])?.first)
        #expect(report["verdict"] as? String == "PASS")
        #expect(volume["backup"] as? String == fixture.backup)
        let listed = Set(fixture.config.blocks.map(\.blockChecksum)).count
        #expect(volume["blocksVerified"] as? Int == listed)
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: ledger.path)[.posixPermissions] as? Int)
        #expect(mode & 0o777 == 0o600)
        let second = try await assure(services, fixture, config: config, arguments)
        #expect(second.status == 0, "\(second.all)")
        let again = try #require(try JSONSerialization.jsonObject(with: Data(second.stdout.utf8)) as? [String: Any])
        let row = try #require((again["volumes"] as? [[String: Any]])?.first)
        #expect(again["run"] as? Int == 2)
        #expect((row["blocksVerified"] as? Int ?? -1) + (row["blocksSkipped"] as? Int ?? -1) == listed)
        #expect((row["blocksSkipped"] as? Int ?? 0) > 0, "the ledger saved no read: \(row)")
        let text = try String(contentsOf: metrics, encoding: .utf8)
        #expect(text.contains("longhorn_dr_assure_volume_success{volume=\"\(fixture.volume)\"} 1"))
        #expect(text.contains("longhorn_dr_backup_max_age_seconds{volume=\"\(fixture.volume)\"} 3600"))
    }

    @Test("a declared volume without a backup, or a damaged block, exits 1 naming it")
    func failures() async throws {
        let services = try TestServices.load()
        let fixture = try await BackupFixture.make(services, label: "assure-bad")
        let config = try Self.config([(fixture.volume, nil), ("never-backed-up", "24h")])
        defer { try? FileManager.default.removeItem(at: config.deletingLastPathComponent()) }
        let missing = try await assure(services, fixture, config: config)
        #expect(missing.status == 1, "\(missing.all)")
        #expect(missing.stdout.contains("PASS \(fixture.volume)"), "\(missing.stdout)")
        #expect(missing.stdout.contains("FAIL never-backed-up"), "\(missing.stdout)")
        let block = fixture.blockKey(0)
        try await services.withS3 { client in try await client.deleteObject(bucket: fixture.bucket, key: block.key) }
        let damaged = try await assure(services, fixture, config: try Self.config([(fixture.volume, nil)]))
        #expect(damaged.status == 1, "\(damaged.all)")
        #expect(damaged.stdout.contains(block.key), "\(damaged.stdout)")
    }

    @Test("wrong keys exit 3, a store that is down exits 4; no secret is printed")
    func storeProblems() async throws {
        let services = try TestServices.load()
        let fixture = try await BackupFixture.make(services, label: "assure-store")
        let config = try Self.config([(fixture.volume, nil)])
        defer { try? FileManager.default.removeItem(at: config.deletingLastPathComponent()) }
        let wrong = try await assure(services, fixture, config: config, environment: ["AWS_SECRET_ACCESS_KEY": "wrong-secret"])
        #expect(wrong.status == 3, "\(wrong.all)")
        #expect(wrong.stdout.contains("SignatureDoesNotMatch"), "\(wrong.all)")
        #expect(!wrong.all.contains(services.secretKey))
        let down = try await assure(services, fixture, config: config, endpoint: "http://127.0.0.1:1")
        #expect(down.status == 4, "\(down.all)")
        #expect(down.stdout.contains("cannot reach http://127.0.0.1:1"), "\(down.all)")
    }

    @Test("a ledger of another store is refused (exit 2) rather than trusted")
    func ledgerOfAnotherStore() async throws {
        let services = try TestServices.load()
        let fixture = try await BackupFixture.make(services, label: "assure-ledger")
        let config = try Self.config([(fixture.volume, nil)])
        defer { try? FileManager.default.removeItem(at: config.deletingLastPathComponent()) }
        let ledger = config.deletingLastPathComponent().appendingPathComponent("ledger.json")
        try Data(#"{"store": "s3://other@us-east-1/", "runs": 4, "blocks": {}}"#.utf8).write(to: ledger)
        let result = try await assure(services, fixture, config: config, ["--ledger", ledger.path])
        #expect(result.status == 2, "\(result.all)")
        #expect(result.stderr.contains("belongs to store s3://other@us-east-1/"), "\(result.all)")
    }

    @Test("--ledger-in-store keeps the ledger beside backupstore/ in the store, and a second run reads only a share")
    func ledgerInTheStore() async throws {
        let services = try TestServices.load()
        let fixture = try await BackupFixture.make(services, label: "assure-store-ledger")
        let config = try Self.config([(fixture.volume, nil)])
        defer { try? FileManager.default.removeItem(at: config.deletingLastPathComponent()) }
        let arguments = ["--ledger-in-store", "--full-every", "30", "--output", "json"]
        let first = try await assure(services, fixture, config: config, arguments)
        #expect(first.status == 0, "\(first.all)")
        #expect(!first.stderr.contains("no --ledger"), "\(first.stderr)")
        let second = try await assure(services, fixture, config: config, arguments)
        let report = try #require(try JSONSerialization.jsonObject(with: Data(second.stdout.utf8)) as? [String: Any], "\(second.all)")
        #expect(report["run"] as? Int == 2)
        let row = try #require((report["volumes"] as? [[String: Any]])?.first)
        #expect((row["blocksSkipped"] as? Int ?? 0) > 0, "the ledger in the store saved no read: \(row)")
    }

    @Test("--ledger with --ledger-in-store, no --target without --cross-check, or bad restore-test flags are refused (exit 2)")
    func flagRules() async throws {
        let config = try Self.config([("photos", nil)])
        defer { try? FileManager.default.removeItem(at: config.deletingLastPathComponent()) }
        let both = try await CLIProcess.run(
            ["assure", "--config", config.path, "--target", "s3://b@us-east-1/", "--ledger", "/tmp/l.json", "--ledger-in-store"])
        #expect(both.status == 2 && both.stderr.contains("--ledger and --ledger-in-store: give one"), "\(both.all)")
        let noTarget = try await CLIProcess.run(["assure", "--config", config.path])
        #expect(noTarget.status == 2 && noTarget.stderr.contains("--target is required (or --cross-check"), "\(noTarget.all)")
        let twoHooks = try await CLIProcess.run(
            ["assure", "--config", config.path, "--target", "s3://b@us-east-1/", "--discord-url-from-env", "D", "--discord-url-file", "/f"])
        #expect(twoHooks.status == 2, "\(twoHooks.all)")
        let imageAlone = try await CLIProcess.run(["assure", "--config", config.path, "--target", "s3://b@us-east-1/", "--restore-test-image", "x:1"])
        #expect(imageAlone.status == 2 && imageAlone.stderr.contains("--restore-test-image needs --restore-test"), "\(imageAlone.all)")
        let badTimeout = try await CLIProcess.run(
            ["assure", "--config", config.path, "--target", "s3://b@us-east-1/", "--restore-test", "--restore-test-timeout", "soon"])
        #expect(badTimeout.status == 2 && badTimeout.stderr.contains("--restore-test-timeout must be a duration"), "\(badTimeout.all)")
    }
}
