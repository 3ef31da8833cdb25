import DRCore
import Foundation
import RestoreOrchestrator
import Synchronization
import Testing

/// A hand-written fake with scripted answers and a record of what was done.
actor ScriptedRestorePort: RestorePort {
    var existing: Set<String> = []
    /// The skip flag's value as the ConfigMap holds it (nil: no ConfigMap or no key).
    var skipValue: String?
    var target: VolumeObservation.Target = .synced(at: Date(timeIntervalSince1970: 0))
    var backups: [String: VolumeObservation.Backups] = [:]
    var restoreErrors: [String: String] = [:]
    var stuck: Set<String> = []
    var publishError: String?
    /// Existing volumes that are a failed restore, with what settling them says.
    var brokenExisting: [String: String] = [:]
    private(set) var actions: [String] = []
    private(set) var reports: [RestoreReport] = []

    init(
        existing: Set<String> = [], skip: Bool = false, target: VolumeObservation.Target = .synced(at: Date(timeIntervalSince1970: 0)),
        backups: [String: VolumeObservation.Backups] = [:], restoreErrors: [String: String] = [:], stuck: Set<String> = []
    ) {
        self.existing = existing
        self.skipValue = skip ? "true" : nil
        self.target = target
        self.backups = backups
        self.restoreErrors = restoreErrors
        self.stuck = stuck
    }

    func longhornVolumeExists(_ name: String) async throws -> Bool { existing.contains(name) }
    /// Read the way the Longhorn adapter reads it: the value through the flag's own rule.
    func skipFlagSet(_ flag: RestoreConfig.SkipFlag) async throws -> Bool { try flag.isSet(value: skipValue) }
    func setSkipValue(_ value: String?) { skipValue = value }
    func settleExisting(_ name: String, timeout: Duration, progress: @escaping @Sendable (String) -> Void) async throws {
        if let message = brokenExisting[name] { throw StubError(message: message) }
        actions.append("settled \(name)")
    }
    func breakExisting(_ name: String, _ message: String) { brokenExisting[name] = message }
    func waitForTarget(_ target: String, timeout: Duration) async throws -> (requestedAt: Date, state: VolumeObservation.Target) {
        actions.append("sync \(target)")
        return (Date(timeIntervalSince1970: 0), self.target)
    }
    func findBackup(for volume: RestoreConfig.Volume, target: String, syncedAfter: Date, timeout: Duration) async throws -> VolumeObservation.Backups {
        backups[volume.name] ?? .confirmedNone
    }
    func restore(_ volume: RestoreConfig.Volume, from backup: BackupReference, timeout: Duration, progress: @escaping @Sendable (String) -> Void) async throws {
        if stuck.contains(volume.name) {
            try await Task.sleep(for: timeout)
            throw StubError(message: "restore of \(volume.name) still running after \(timeout)")
        }
        if let message = restoreErrors[volume.name] { throw StubError(message: message) }
        progress("attached, restoring")
        actions.append("restore \(volume.name) \(backup.name)")
    }
    func createFresh(_ volume: RestoreConfig.Volume, target: String, timeout: Duration) async throws { actions.append("fresh \(volume.name) on \(target)") }
    func ensurePersistentVolume(_ volume: RestoreConfig.Volume) async throws { actions.append("pv \(volume.name)") }
    func publish(_ report: RestoreReport) async throws {
        if let publishError { throw StubError(message: publishError) }
        reports.append(report)
    }
    func failPublishing(_ message: String) { publishError = message }
}

struct StubError: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

@Suite struct RestoreOrchestratorTests {
    static func config(_ names: [String], onMissing: RestoreConfig.MissingBackupAction = .fresh, restoreTimeout: Duration = .seconds(5)) -> RestoreConfig {
        RestoreConfig(
            longhornNamespace: "longhorn-system", backupTarget: "default", syncTimeout: .seconds(1), restoreTimeout: restoreTimeout,
            concurrency: 2, skipFlag: RestoreConfig.Defaults.skipFlag,
            volumes: names.map {
                RestoreConfig.Volume(
                    name: $0, pvcNamespace: "app", pvcName: $0, size: ByteQuantity(bytes: 1 << 30), replicas: 3,
                    storageClass: "longhorn", fsType: .ext4, accessMode: .readWriteOnce, restore: .latest, onMissingBackup: onMissing)
            })
    }

    static func backup(_ name: String) -> VolumeObservation.Backups {
        .found(BackupReference(name: name, url: "s3://b@r/?backup=\(name)&volume=v", snapshotCreatedAt: Date(timeIntervalSinceNow: -3600), volumeSize: 1 << 30))
    }

    @Test func restoresFreshensAndKeepsPerVolume() async {
        let port = ScriptedRestorePort(existing: ["kept"], backups: ["restored": Self.backup("backup-1")])
        let outcomes = await RestoreOrchestrator(config: Self.config(["restored", "empty", "kept"]), port: port).run()
        #expect(outcomes.map(\.decision) == ["restore", "fresh", "keep-existing"])
        #expect(outcomes.allSatisfy { $0.succeeded })
        let actions = await port.actions
        #expect(actions.contains("restore restored backup-1") && actions.contains("fresh empty on default") && actions.contains("pv kept"))
        #expect(RestoreOrchestrator.exitStatus(outcomes) == .ok)
        #expect(outcomes[0].backupAge != nil)
    }

    /// The Job's retry after a failed pod finds the volume the failed restore made: it must fail
    /// again, not keep it and open the gate on a volume without the data.
    @Test func anExistingVolumeFromAFailedRestoreIsNeverKept() async {
        let port = ScriptedRestorePort(existing: ["broken", "fine"])
        await port.breakExisting("broken", "volumes.longhorn.io longhorn-system/broken: exists from a restore that failed (faulted)")
        let outcomes = await RestoreOrchestrator(config: Self.config(["broken", "fine"]), port: port).run()
        #expect(outcomes.map(\.succeeded) == [false, true])
        #expect(outcomes[0].message.contains("exists from a restore that failed"))
        let actions = await port.actions
        #expect(!actions.contains("pv broken"), "no PV is bound to a volume without its data")
        #expect(actions.contains("settled fine") && actions.contains("pv fine"))
        #expect(RestoreOrchestrator.exitStatus(outcomes) == .infrastructure)
    }

    @Test func anUnsyncedTargetFailsEveryVolumeAndCreatesNothing() async {
        let port = ScriptedRestorePort(target: .notReady("BackupTarget default: available=false"))
        let outcomes = await RestoreOrchestrator(config: Self.config(["a", "b"]), port: port).run()
        #expect(outcomes.allSatisfy { !$0.succeeded && $0.decision == "fail" })
        #expect(outcomes.first?.message.contains("refusing to guess") == true)
        #expect(await port.actions == ["sync default"], "nothing was created")
        #expect(RestoreOrchestrator.exitStatus(outcomes) == .infrastructure)
    }

    @Test func skipFlagMakesFreshVolumesWithoutLookingForBackups() async {
        let port = ScriptedRestorePort(skip: true, target: .notReady("never synced"), backups: ["a": Self.backup("backup-1")])
        let outcomes = await RestoreOrchestrator(config: Self.config(["a"]), port: port).run()
        #expect(outcomes.first?.decision == "fresh" && outcomes.first?.succeeded == true)
    }

    /// A skip flag that is neither "true" nor "false" is not guessed at: every volume fails,
    /// naming the value, nothing is created, and the Job's failure keeps the gate closed.
    @Test(arguments: ["yes", "True", " true", ""])
    func aSkipFlagThatIsNeitherTrueNorFalseFailsEveryVolume(value: String) async {
        let port = ScriptedRestorePort(backups: ["a": Self.backup("backup-1"), "b": Self.backup("backup-2")])
        await port.setSkipValue(value)
        let outcomes = await RestoreOrchestrator(config: Self.config(["a", "b"]), port: port).run()
        #expect(outcomes.map(\.succeeded) == [false, false])
        #expect(outcomes.allSatisfy { $0.decision == "fail" && $0.message.contains("\"\(value)\"") && $0.message.contains("exactly") })
        #expect(await port.actions.isEmpty, "nothing was created or synced")
        #expect(RestoreOrchestrator.exitStatus(outcomes) != .ok)
    }

    @Test func aSkipFlagOfFalseRestoresAsUsual() async {
        let port = ScriptedRestorePort(backups: ["a": Self.backup("backup-1")])
        await port.setSkipValue("false")
        let outcomes = await RestoreOrchestrator(config: Self.config(["a"]), port: port).run()
        #expect(outcomes.first?.decision == "restore" && outcomes.first?.succeeded == true)
    }

    @Test func oneStuckVolumeDoesNotHideTheOthers() async {
        let port = ScriptedRestorePort(
            backups: ["stuck": Self.backup("backup-1"), "fine": Self.backup("backup-2"), "broken": Self.backup("backup-3")],
            restoreErrors: ["broken": "Restore condition RestoreFailure: All replica restore failed"], stuck: ["stuck"])
        let outcomes = await RestoreOrchestrator(config: Self.config(["stuck", "fine", "broken"], restoreTimeout: .milliseconds(200)), port: port).run()
        #expect(outcomes.map(\.succeeded) == [false, true, false])
        #expect(outcomes[0].message.contains("still running"))
        #expect(outcomes[2].message.contains("RestoreFailure"))
    }

    @Test func missingBackupWithOnMissingFailFails() async {
        let port = ScriptedRestorePort()
        let outcomes = await RestoreOrchestrator(config: Self.config(["must"], onMissing: .fail), port: port).run()
        #expect(outcomes.first?.succeeded == false)
        #expect(await port.actions.contains { $0.hasPrefix("fresh") } == false)
    }

    @Test func aDryRunDecidesLikeARealRunButCreatesAndPublishesNothing() async {
        let port = ScriptedRestorePort(existing: ["kept"], backups: ["restored": Self.backup("backup-1")])
        let config = Self.config(["restored", "empty", "kept"])
        let outcomes = await RestoreOrchestrator(config: config, port: port).run(dryRun: true)
        #expect(outcomes.map(\.decision) == ["restore", "fresh", "keep-existing"])
        #expect(outcomes[0].message.contains("would restore from backup-1"))
        #expect(outcomes[1].message.contains("would create an empty volume"))
        #expect(await port.actions == ["sync default"], "only the sync request is a write")
        #expect(await port.reports.isEmpty)
    }

    @Test func aDryRunStillFailsWhatARealRunWouldFail() async {
        let port = ScriptedRestorePort(target: .notReady("BackupTarget default: available=false"))
        let outcomes = await RestoreOrchestrator(config: Self.config(["a"]), port: port).run(dryRun: true)
        #expect(outcomes.first?.succeeded == false)
        #expect(outcomes.first?.message.hasPrefix("would fail:") == true)
        #expect(RestoreOrchestrator.exitStatus(outcomes) == .infrastructure)
    }

    @Test func aRealRunPublishesOneReportWithEveryVolume() async throws {
        let port = ScriptedRestorePort(backups: ["restored": Self.backup("backup-1")], restoreErrors: [:])
        let outcomes = await RestoreOrchestrator(config: Self.config(["restored", "empty"], onMissing: .fresh), port: port).run()
        let reports = await port.reports
        #expect(reports.count == 1)
        let report = try #require(reports.first)
        #expect(report.outcomes == outcomes)
        #expect(report.namespace == "longhorn-system" && report.configMap == RestoreConfig.Defaults.statusConfigMap)
        let data = report.configMapData
        #expect(data["result"] == "succeeded")
        #expect(data["summary"] == "2 volume(s): 1 restored, 1 fresh, 0 kept, 0 failed")
        #expect(data["volume.restored"]?.contains("from backup-1") == true)
        let rows = try #require(data["volumes.json"].flatMap { try? JSONSerialization.jsonObject(with: Data($0.utf8)) as? [[String: Any]] })
        #expect(rows.map { $0["volume"] as? String } == ["restored", "empty"])
        #expect(rows.first?["backup"] as? String == "backup-1")
    }

    @Test func aFailedVolumeMakesTheReportFailed() async throws {
        let port = ScriptedRestorePort()
        _ = await RestoreOrchestrator(config: Self.config(["must"], onMissing: .fail), port: port).run()
        let data = try #require(await port.reports.first).configMapData
        #expect(data["result"] == "failed")
        #expect(data["summary"] == "1 volume(s): 0 restored, 0 fresh, 0 kept, 1 failed")
    }

    /// The status is for people; the volumes are what the gate is for.
    @Test func aStatusThatCannotBeWrittenIsLoggedButDoesNotFailTheVolumes() async {
        let port = ScriptedRestorePort()
        await port.failPublishing("configmaps \"longhorn-dr-restore-status\" is forbidden")
        let lines = LogLines()
        let outcomes = await RestoreOrchestrator(config: Self.config(["a"]), port: port, log: { lines.append($0) }).run()
        #expect(outcomes.allSatisfy { $0.succeeded })
        #expect(lines.all.contains { $0.hasPrefix("warning: could not record the status") && $0.contains("forbidden") })
    }
}

/// Collects log lines from concurrent tasks.
final class LogLines: Sendable {
    private let storage = Mutex<[String]>([])
    func append(_ line: String) { storage.withLock { $0.append(line) } }
    var all: [String] { storage.withLock { $0 } }
}
