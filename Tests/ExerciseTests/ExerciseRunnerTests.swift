import Crypto
import DRCore
import Exercise
import Foundation
import Testing

/// A scripted environment: a disk that survives destroy only through the "backup", and
/// switches for each way a real exercise goes wrong.
actor ScriptedEnvironment: ExerciseEnvironment {
    var disk = Data()
    var backedUp = Data()
    var restoreWorks = true
    var backupState = "Completed"
    var storeCorrupt = false
    /// The snapshot was taken before the sentinel reached the disk: the backup holds the old bytes.
    var staleSnapshot = false
    /// The store check forgets to report the sentinel's hash.
    var storeCheckOmitsSentinel = false
    var fingerprint = "cluster-1"
    var rebuildHangs = false
    private(set) var calls: [String] = []

    func configure(restoreWorks: Bool = true, backupState: String = "Completed", storeCorrupt: Bool = false, rebuildHangs: Bool = false,
        staleSnapshot: Bool = false, storeCheckOmitsSentinel: Bool = false)
    {
        self.storeCheckOmitsSentinel = storeCheckOmitsSentinel
        self.staleSnapshot = staleSnapshot
        self.restoreWorks = restoreWorks
        self.backupState = backupState
        self.storeCorrupt = storeCorrupt
        self.rebuildHangs = rebuildHangs
    }
    func changeFingerprint(_ value: String) { fingerprint = value }

    func preflight() async throws -> [String: String] { calls.append("preflight"); return ["longhorn": "v1.10.2"] }
    func clusterFingerprint() async throws -> String { fingerprint }
    func setUpWorkload() async throws -> [String: String] { calls.append("setup"); return [:] }
    func writeSentinel(_ bytes: Data) async throws -> Data { calls.append("write"); disk = bytes; return disk }
    func backUp() async throws -> BackupEvidence {
        calls.append("backup")
        backedUp = staleSnapshot ? Data() : disk
        return BackupEvidence(backupName: "backup-1", url: "s3://b@r/?backup=backup-1&volume=v", state: backupState, snapshotCreatedAt: "2027-01-15T08:00:00Z", volume: "v")
    }
    func verifyInStore(_ backup: BackupEvidence) async throws -> [String: String] {
        calls.append("verify-store")
        if storeCorrupt { throw StubFailure(message: "block at offset 2097152 (key backupstore/volumes/…/blocks/ab/cd/abcd.blk): checksum mismatch") }
        // What a store check reports: the hash of the sentinel file found in the backup.
        if storeCheckOmitsSentinel { return ["blocksVerified": "3"] }
        return ["blocksVerified": "3", "storeSentinelSHA256": SHA256.hash(data: backedUp).map { String(format: "%02x", $0) }.joined()]
    }
    func destroy() async throws { calls.append("destroy"); disk = Data() }
    func rebuild() async throws {
        calls.append("rebuild")
        if rebuildHangs { try await Task.sleep(for: .seconds(3600)) }
        fingerprint = "cluster-2"
    }
    func waitReady() async throws -> [String: String] {
        calls.append("wait-ready")
        disk = restoreWorks ? backedUp : Data()
        return [:]
    }
    func readSentinel() async throws -> Data { calls.append("read"); return disk }
}

struct StubFailure: Error, CustomStringConvertible {
    var message: String
    var description: String { message }
}

actor MemoryJournal: JournalStore {
    var saved: ExerciseJournal?
    var saves = 0
    init(_ journal: ExerciseJournal? = nil) { saved = journal }
    func load() async throws -> ExerciseJournal? { saved }
    func save(_ journal: ExerciseJournal) async throws { saved = journal; saves += 1 }
}

@Suite struct ExerciseRunnerTests {
    static func config(total: Duration = .seconds(60), phase: Duration = .seconds(5)) throws -> ExerciseConfig {
        var config = try ConfigLoader.loadExercise("kind: ExerciseConfig\ncluster: {name: dev}\nsentinel: {size: 4Ki}\n", file: "t.yaml")
        config.budgets = ExerciseConfig.Budgets(total: total, phases: Dictionary(uniqueKeysWithValues: ExercisePhase.allCases.map { ($0, phase) }))
        return config
    }

    func run(_ environment: ScriptedEnvironment, journal: MemoryJournal = MemoryJournal(), confirmed: Bool = true, resume: Bool = false,
        config: ExerciseConfig? = nil) async throws -> ExerciseReport
    {
        try await ExerciseRunner(config: config ?? Self.config(), environment: environment, journalStore: journal,
            options: .init(resume: resume, confirmedDestroy: confirmed)).run()
    }

    @Test func passesWhenTheDataComesBack() async throws {
        let environment = ScriptedEnvironment()
        let report = try await run(environment)
        #expect(report.verdict == .pass, "\(report.consoleText())")
        #expect(report.exitStatus == .ok)
        #expect(await environment.calls == ["preflight", "setup", "write", "backup", "verify-store", "destroy", "rebuild", "wait-ready", "read"])
    }

    @Test func failsWhenTheRestoredVolumeIsEmpty() async throws {
        let environment = ScriptedEnvironment()
        await environment.configure(restoreWorks: false)
        let report = try await run(environment)
        #expect(report.verdict == .fail)
        #expect(report.exitStatus == .verificationFailed)
        #expect(report.failure?.contains("sentinel differs") == true)
    }

    @Test func aFailedBackupStopsBeforeDestroy() async throws {
        let environment = ScriptedEnvironment()
        await environment.configure(backupState: "Error")
        let report = try await run(environment)
        #expect(report.verdict == .fail)
        #expect(await environment.calls.contains("destroy") == false)
    }

    @Test func aCorruptBackupInTheStoreStopsBeforeDestroy() async throws {
        let environment = ScriptedEnvironment()
        await environment.configure(storeCorrupt: true)
        let report = try await run(environment)
        #expect(report.verdict == .fail)
        #expect(report.failure?.contains("checksum mismatch") == true)
        #expect(await environment.calls.contains("destroy") == false)
    }

    @Test func aBackupWithoutTheSentinelStopsBeforeDestroy() async throws {
        let environment = ScriptedEnvironment()
        await environment.configure(staleSnapshot: true)
        let report = try await run(environment)
        #expect(report.verdict == .fail)
        #expect(report.exitStatus == .verificationFailed)
        #expect(report.failure?.contains("does not hold the sentinel") == true, "\(report.consoleText())")
        #expect(await environment.calls.contains("destroy") == false)
    }

    @Test func aStoreCheckThatReturnsNoSentinelHashIsAFailure() async throws {
        // An environment whose store check forgets the hash must not open the gate either.
        let environment = ScriptedEnvironment()
        await environment.configure(storeCheckOmitsSentinel: true)
        let report = try await run(environment)
        #expect(report.verdict == .fail)
        #expect(report.failure?.contains("returned no sentinel hash") == true, "\(report.consoleText())")
        #expect(await environment.calls.contains("destroy") == false)
    }

    @Test func noDestroyWithoutConfirmation() async throws {
        let environment = ScriptedEnvironment()
        let report = try await run(environment, confirmed: false)
        #expect(report.verdict == .fail)
        #expect(report.failure?.contains("did not confirm") == true)
        #expect(await environment.calls.contains("destroy") == false)
    }

    @Test func noDestroyOfADifferentCluster() async throws {
        let environment = ScriptedEnvironment()
        let journal = MemoryJournal()
        // Stop after verification by refusing, then point at another cluster and resume.
        _ = try await run(environment, journal: journal, confirmed: false)
        await environment.changeFingerprint("someone-elses-cluster")
        let report = try await run(environment, journal: journal, resume: true)
        #expect(report.verdict == .fail)
        #expect(report.failure?.contains("not the one the exercise started on") == true)
        #expect(await environment.calls.contains("destroy") == false)
    }

    @Test func aHangingPhaseFailsOnItsBudget() async throws {
        let environment = ScriptedEnvironment()
        await environment.configure(rebuildHangs: true)
        let report = try await run(environment, config: try Self.config(phase: .milliseconds(300)))
        #expect(report.verdict == .fail)
        #expect(report.phases.first { $0.phase == .rebuild }?.reason == "timeout")
        #expect(report.exitStatus == .infrastructure)
    }

    @Test func resumeContinuesWhereTheKilledRunStopped() async throws {
        let environment = ScriptedEnvironment()
        let journal = MemoryJournal()
        // A first run that stopped at rebuild (as if killed): the journal says so.
        await environment.configure(rebuildHangs: true)
        _ = try await run(environment, journal: journal, config: try Self.config(phase: .milliseconds(300)))
        await environment.configure(rebuildHangs: false)
        let report = try await run(environment, journal: journal, resume: true)
        #expect(report.verdict == .pass, "\(report.consoleText())")
        let calls = await environment.calls
        #expect(calls.filter { $0 == "backup" }.count == 1, "the backup is not taken again")
        #expect(calls.filter { $0 == "destroy" }.count == 1)
    }
}
