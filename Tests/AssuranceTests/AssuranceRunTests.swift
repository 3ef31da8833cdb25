import Assurance
import Backupstore
import DRCore
import Delivery
import Foundation
import Testing

/// `assure` over a store on disk: each way a backup breaks its promise gives its own FAIL, the
/// healthy case passes, and the ledger makes later runs read a share of the store while still
/// finding an old block that went bad.
@Suite struct AssuranceRunTests {
    static let blockSize = 64 * 1024
    static let now = Date(timeIntervalSince1970: 1_800_000_000)

    struct Fixture: Sendable {
        let root: URL
        let store: FileSystemObjectStore
        let layout = BackupstoreLayout(targetURL: "s3://bucket@us-east-1/dr/")
        var reader: BackupReader { BackupReader(store: store, layout: layout) }

        init() throws {
            root = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-assure-\(UUID().uuidString)")
            try FileManager.default.createDirectory(at: root, withIntermediateDirectories: true)
            store = FileSystemObjectStore(root: root.appendingPathComponent("store"))
        }

        /// A backup of `blocks` distinct blocks of `volume`, taken `age` before `now`.
        @discardableResult
        func backup(_ volume: String, name: String, blocks: Int, seed: UInt64, age: Duration = .seconds(3600)) async throws -> BackupWriter.Result {
            let image = root.appendingPathComponent("\(volume)-\(name).img")
            var generator = seed &* 0x9E37_79B9_7F4A_7C15 | 1
            var bytes = [UInt8](repeating: 0, count: blocks * AssuranceRunTests.blockSize)
            for index in bytes.indices {
                generator ^= generator << 13
                generator ^= generator >> 7
                generator ^= generator << 17
                bytes[index] = UInt8(truncatingIfNeeded: generator)
            }
            try Data(bytes).write(to: image)
            let taken = AssuranceRunTests.now.addingTimeInterval(-Double(age.components.seconds))
            return try await BackupWriter(store: store, layout: layout).backup(
                imageAt: image, volumeName: volume, backupName: name, options: .init(blockSize: AssuranceRunTests.blockSize, compression: .lz4),
                now: taken)
        }

        func blockKey(_ volume: String, _ result: BackupWriter.Result, index: Int) -> String {
            layout.blockKey(volume: volume, checksum: result.config.blocks[index].blockChecksum)
        }

        func remove() { try? FileManager.default.removeItem(at: root) }
    }

    static func run(
        _ fixture: Fixture, _ volumes: [AssuranceRun.Volume], ledger: inout VerifiedBlockLedger, fullEvery: Int = 4
    ) async -> AssuranceReport {
        await AssuranceRun(volumes: volumes, parallelism: 4, fullEvery: fullEvery).run(
            reader: fixture.reader, store: "s3://bucket@us-east-1/dr/", ledger: &ledger, now: now)
    }

    static let day = AssuranceRun.Volume(name: "photos", maxAge: .seconds(26 * 3600))

    @Test func healthyVolumesPassAndLaterRunsReadOnlyTheirShare() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        try await fixture.backup("photos", name: "b1", blocks: 24, seed: 1)
        try await fixture.backup("pgdata", name: "b1", blocks: 16, seed: 2)
        let volumes = [Self.day, AssuranceRun.Volume(name: "pgdata", maxAge: nil)]
        var ledger = VerifiedBlockLedger(store: "s3://bucket@us-east-1/dr/")
        let first = await Self.run(fixture, volumes, ledger: &ledger)
        #expect(first.passed, "\(first.text())")
        #expect(first.exitStatus == .ok)
        #expect(first.volumes.map(\.blocksVerified) == [24, 16])
        #expect(first.volumes[0].age == .seconds(3600))
        #expect(ledger.blocks.count == 40 && ledger.runs == 1)
        // Runs 2 to 5: each reads about a quarter, and together they read every block again.
        var reread = Set<String>()
        for _ in 2...5 {
            let later = await Self.run(fixture, volumes, ledger: &ledger)
            #expect(later.passed, "\(later.text())")
            #expect(later.bytesRead * 2 < first.bytesRead, "run \(later.run) read \(later.bytesRead) of \(first.bytesRead) bytes")
            #expect(later.volumes.map { $0.blocksVerified + $0.blocksSkipped } == [24, 16])
            reread.formUnion(ledger.blocks.filter { $0.value == later.run }.map(\.key))
        }
        #expect(reread.count == 40, "every block is read again within fullEvery runs")
        let metrics = first.metrics()
        #expect(metrics.contains("longhorn_dr_assure_volume_success{volume=\"photos\"} 1"))
        #expect(metrics.contains("longhorn_dr_backup_age_seconds{volume=\"photos\"} 3600"))
        #expect(metrics.contains("longhorn_dr_backup_max_age_seconds{volume=\"photos\"} 93600"))
        #expect(!metrics.contains("longhorn_dr_backup_max_age_seconds{volume=\"pgdata\"}"), "no maxAge, no promise")
    }

    @Test func aBackupOlderThanItsMaxAgeFails() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        try await fixture.backup("photos", name: "b1", blocks: 4, seed: 3, age: .seconds(30 * 3600))
        var ledger = VerifiedBlockLedger(store: "s3://bucket@us-east-1/dr/")
        let report = await Self.run(fixture, [Self.day], ledger: &ledger)
        #expect(!report.passed)
        #expect(report.volumes[0].reasons == [.stale])
        #expect(report.volumes[0].messages[0].contains("is 30h old, more than its maxAge of 26h"), "\(report.volumes[0].messages)")
        #expect(report.exitStatus == .verificationFailed)
        // Its blocks are still verified: a stale backup can be a sound one.
        #expect(report.volumes[0].blocksVerified == 4)
        // Without a maxAge the same backup is reported, not judged.
        var other = VerifiedBlockLedger(store: "s3://bucket@us-east-1/dr/")
        let unjudged = await Self.run(fixture, [AssuranceRun.Volume(name: "photos", maxAge: nil)], ledger: &other)
        #expect(unjudged.passed)
        #expect(unjudged.text().contains("age 30h (no maxAge)"), "\(unjudged.text())")
    }

    @Test func aFailIsSentWithTheFailedVolumesFirst() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        try await fixture.backup("photos", name: "b1", blocks: 2, seed: 5)
        try await fixture.backup("pgdata", name: "b1", blocks: 2, seed: 6, age: .seconds(30 * 3600))
        var ledger = VerifiedBlockLedger(store: "s3://bucket@us-east-1/dr/")
        let report = await Self.run(fixture, [Self.day, AssuranceRun.Volume(name: "pgdata", maxAge: .seconds(3600))], ledger: &ledger)
        let content = report.deliveryContent()
        #expect(content.exposition == report.metrics(), "the Pushgateway gets what the textfile holds")
        #expect(content.pushgatewayGroup.job == "longhorn_dr_assure")
        #expect(content.pushgatewayGroup.labels.map(\.value) == ["s3://bucket@us-east-1/dr/"])
        let embed = try #require(content.discord.embeds.first)
        #expect(embed.title == "Backup assurance FAIL · s3://bucket@us-east-1/dr/")
        #expect(embed.description == "1 of 2 volumes failed: pgdata.")
        #expect(embed.fields.map(\.name) == ["FAIL pgdata", "PASS photos"])
        #expect(embed.fields[0].value.contains("is 30h old, more than its maxAge of 1h"), "\(embed.fields[0].value)")
        #expect(embed.fields[1].value == "b1, age 1h (maxAge 26h); 2 of 2 blocks read this run")
        let webhook = try #require(try JSONSerialization.jsonObject(with: content.webhookJSON) as? [String: Any])
        #expect(webhook["verdict"] as? String == "FAIL")
        #expect(webhook["failedVolumes"] as? [String] == ["pgdata"])
        #expect((webhook["text"] as? String)?.contains("pgdata: stale:") == true, "\(webhook)")
    }

    @Test func aDeclaredVolumeWithoutABackupFailsAndTheOthersAreStillChecked() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        try await fixture.backup("photos", name: "b1", blocks: 4, seed: 4)
        var ledger = VerifiedBlockLedger(store: "s3://bucket@us-east-1/dr/")
        let report = await Self.run(fixture, [AssuranceRun.Volume(name: "forgotten", maxAge: .seconds(3600)), Self.day], ledger: &ledger)
        #expect(report.volumes[0].reasons == [.noBackup])
        #expect(report.volumes[1].passed)
        #expect(report.exitStatus == .verificationFailed)
        let json = try #require(try JSONSerialization.jsonObject(with: Data(report.json().utf8)) as? [String: Any])
        #expect(json["verdict"] as? String == "FAIL")
        #expect(json["exitCode"] as? Int == 1)
        let rows = try #require(json["volumes"] as? [[String: Any]])
        #expect(rows.map { $0["verdict"] as? String } == ["FAIL", "PASS"])
        #expect(rows[0]["reasons"] as? [String] == ["no-backup"])
    }

    @Test func aDamagedBackupConfigIsNamedAsSuch() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        try await fixture.backup("photos", name: "b1", blocks: 2, seed: 7)
        let cfg = fixture.root.appendingPathComponent("store").appendingPathComponent(fixture.layout.backupConfigKey(volume: "photos", backup: "b1"))
        try Data("{ not json".utf8).write(to: cfg)
        var ledger = VerifiedBlockLedger(store: "s3://bucket@us-east-1/dr/")
        let report = await Self.run(fixture, [Self.day], ledger: &ledger)
        #expect(report.volumes[0].reasons == [.damagedConfig], "\(report.text())")
        #expect(report.exitStatus == .verificationFailed)
    }

    enum Damage: CaseIterable { case flipped, missing, truncated }

    @Test(arguments: Damage.allCases)
    func aDamagedNewBlockFailsNamingIt(damage: Damage) async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let result = try await fixture.backup("photos", name: "b1", blocks: 6, seed: 5)
        let key = fixture.blockKey("photos", result, index: 3)
        try Self.damage(fixture, key: key, damage)
        var ledger = VerifiedBlockLedger(store: "s3://bucket@us-east-1/dr/")
        let report = await Self.run(fixture, [Self.day], ledger: &ledger)
        let expected: AssuranceReport.Reason =
            switch damage {
            case .flipped: .corruptBlock
            case .missing: .missingBlock
            case .truncated: .truncatedBlock
            }
        #expect(report.volumes[0].reasons == [expected], "\(report.text())")
        #expect(report.volumes[0].messages[0].contains(key))
        #expect(report.exitStatus == .verificationFailed)
        // Nothing of a failed volume is recorded: the next run reads all of it again.
        #expect(ledger.blocks.isEmpty)
    }

    static func damage(_ fixture: Fixture, key: String, _ damage: Damage) throws {
        let url = fixture.root.appendingPathComponent("store").appendingPathComponent(key)
        switch damage {
        case .flipped:
            var data = try Data(contentsOf: url)
            data[data.startIndex + data.count / 2] ^= 0x40
            try data.write(to: url)
        case .missing:
            try FileManager.default.removeItem(at: url)
        case .truncated:
            let data = try Data(contentsOf: url)
            try data.prefix(data.count / 2).write(to: url)
        }
    }

    /// A block verified in run 1 and corrupted afterwards is skipped for a while (that is the
    /// point of the ledger), but the rolling share reads it again within fullEvery runs.
    @Test func anOldBlockThatWentBadIsFoundWithinFullEveryRuns() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        let result = try await fixture.backup("photos", name: "b1", blocks: 12, seed: 6)
        var ledger = VerifiedBlockLedger(store: "s3://bucket@us-east-1/dr/")
        #expect(await Self.run(fixture, [Self.day], ledger: &ledger, fullEvery: 5).passed)
        for index in [2, 7] { try Self.damage(fixture, key: fixture.blockKey("photos", result, index: index), .flipped) }
        var found: Int?
        for _ in 2...6 {
            let report = await Self.run(fixture, [Self.day], ledger: &ledger, fullEvery: 5)
            if !report.passed {
                #expect(report.volumes[0].reasons == [.corruptBlock])
                found = report.run
                break
            }
        }
        let run = try #require(found, "the damaged blocks were not found in 5 runs")
        #expect(run <= 6)
    }

    @Test func theLedgerIsPrivateRoundTripsAndBelongsToOneStore() throws {
        let folder = FileManager.default.temporaryDirectory.appendingPathComponent("lhdr-ledger-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: folder) }
        let url = folder.appendingPathComponent("ledger.json")
        #expect(try VerifiedBlockLedger.load(from: url, store: "s3://a@r/") == VerifiedBlockLedger(store: "s3://a@r/"))
        let ledger = VerifiedBlockLedger(store: "s3://a@r/", runs: 3, blocks: ["ab": 2, "cd": 3])
        try ledger.save(to: url)
        #expect(try VerifiedBlockLedger.load(from: url, store: "s3://a@r/") == ledger)
        let mode = try #require(try FileManager.default.attributesOfItem(atPath: url.path)[.posixPermissions] as? Int)
        #expect(mode & 0o777 == 0o600)
        #expect(throws: LedgerError.self) { try VerifiedBlockLedger.load(from: url, store: "s3://b@r/") }
        try Data("not json".utf8).write(to: url)
        #expect(throws: LedgerError.self) { try VerifiedBlockLedger.load(from: url, store: "s3://a@r/") }
    }

    @Test func everyBlockFallsInOneSliceAndUnknownOnesAreAlwaysChecked() {
        let ledger = VerifiedBlockLedger(store: "s", runs: 1, blocks: ["00000003ff": 1, "0000000aff": 1])
        #expect(ledger.needsCheck("ffff", run: 2, fullEvery: 4), "unknown")
        // 3 % 4 == 3: run 3 checks it, runs 2 and 4 do not; 4 runs after its last check it is due anyway.
        #expect(!ledger.needsCheck("00000003ff", run: 2, fullEvery: 4))
        #expect(ledger.needsCheck("00000003ff", run: 3, fullEvery: 4))
        #expect(!ledger.needsCheck("00000003ff", run: 4, fullEvery: 4))
        #expect(ledger.needsCheck("00000003ff", run: 5, fullEvery: 4))
        #expect(ledger.needsCheck("0000000aff", run: 2, fullEvery: 1), "fullEvery 1: every run")
    }
}
