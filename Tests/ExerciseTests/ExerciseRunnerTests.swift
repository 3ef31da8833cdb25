import Crypto
import DRCore
import Exercise
import Foundation
import Testing

/// A scripted environment: a disk that survives destroy only through the "backup", and
/// switches for each way a real exercise goes wrong. A "cluster" is its kube-system uid; each
/// rebuild makes a new one whose bootstrap restores the newest backup.
actor ScriptedEnvironment: ExerciseEnvironment {
    /// Each volume's contents, by volume name.
    var disks: [String: Data] = [:]
    var backedUp: [String: Data] = [:]
    var restoreWorks = true
    var backupState = "Completed"
    var storeCorrupt = false
    /// The snapshot was taken before the sentinel reached the disk: the backup holds the old bytes.
    var staleSnapshot = false
    /// The store check forgets to report the sentinel's hash.
    var storeCheckOmitsSentinel = false
    var fingerprint = "kube-system=uid-1"
    var rebuildHangs = false
    /// destroy exits 0 and leaves the cluster (and rebuild then finds nothing to do).
    var destroyDoesNothing = false
    /// rebuild points the kubeconfig at another, older cluster that restored another backup.
    var rebuildFindsAnotherCluster = false
    /// the rebuilt cluster's bootstrap starts the volume fresh.
    var bootstrapStartsFresh = false
    /// destroy fails this many times after taking the API down (the cluster half gone).
    var destroyFailures = 0
    var destroyHangs = false
    /// A recurring job backed the volume up after the exercise did.
    var newerScheduledBackup = false
    /// What the rebuilt cluster's Alertmanager gate reports (nil: none configured).
    var alertmanager: String?
    /// Per-volume faults, by volume name: its backup ends in Error; its bootstrap starts it
    /// fresh; the restore brings back other bytes; the restore brings back another volume's data.
    var backupErrorIn: Set<String> = []
    var freshIn: Set<String> = []
    var damagedIn: Set<String> = []
    var swapped: (String, String)?
    /// Moved forward by the phases that take time (destroy: 10 min).
    let clock: TestClock
    var apiUp = true
    var generation = 1
    var restoredAt = Date(timeIntervalSince1970: 0)
    private(set) var calls: [String] = []
    /// The most backups running at once.
    private(set) var peakBackups = 0
    private var runningBackups = 0

    init(clock: TestClock = TestClock()) { self.clock = clock }

    func setAlertmanager(_ fact: String?) { alertmanager = fact }

    func configure(
        restoreWorks: Bool = true, backupState: String = "Completed", storeCorrupt: Bool = false, rebuildHangs: Bool = false,
        staleSnapshot: Bool = false, storeCheckOmitsSentinel: Bool = false
    ) {
        self.storeCheckOmitsSentinel = storeCheckOmitsSentinel
        self.staleSnapshot = staleSnapshot
        self.restoreWorks = restoreWorks
        self.backupState = backupState
        self.storeCorrupt = storeCorrupt
        self.rebuildHangs = rebuildHangs
    }
    func set(
        destroyDoesNothing: Bool = false, rebuildFindsAnotherCluster: Bool = false, bootstrapStartsFresh: Bool = false,
        destroyFailures: Int = 0, destroyHangs: Bool = false, newerScheduledBackup: Bool = false
    ) {
        self.destroyDoesNothing = destroyDoesNothing
        self.rebuildFindsAnotherCluster = rebuildFindsAnotherCluster
        self.bootstrapStartsFresh = bootstrapStartsFresh
        self.destroyFailures = destroyFailures
        self.destroyHangs = destroyHangs
        self.newerScheduledBackup = newerScheduledBackup
    }
    func perVolume(backupError: Set<String> = [], fresh: Set<String> = [], damaged: Set<String> = [], swapped: (String, String)? = nil) {
        backupErrorIn = backupError
        freshIn = fresh
        damagedIn = damaged
        self.swapped = swapped
    }
    func changeFingerprint(_ value: String) { fingerprint = value }

    func preflight() async throws -> PreflightFacts {
        calls.append("preflight")
        return PreflightFacts(apiServer: "https://cluster.lan:6443", longhorn: "v1.10.2", backupTarget: "s3://bucket@us-east-1/")
    }
    func clusterFingerprint() async throws -> String {
        guard apiUp else { throw StubFailure(message: "connection refused") }
        return fingerprint
    }
    func setUpWorkloads() async throws -> [String: WorkloadSetup] {
        calls.append("setup")
        return [:]
    }
    func writeSentinel(_ bytes: Data, into workload: ExerciseConfig.Workload) async throws -> Data {
        calls.append("write")
        disks[workload.volume] = bytes
        return bytes
    }
    func backUp(_ workload: ExerciseConfig.Workload) async throws -> BackupEvidence {
        calls.append("backup")
        runningBackups += 1
        peakBackups = max(peakBackups, runningBackups)
        try await Task.sleep(for: .milliseconds(50))
        runningBackups -= 1
        backedUp[workload.volume] = staleSnapshot ? Data() : disks[workload.volume] ?? Data()
        let state = backupErrorIn.contains(workload.volume) ? "Error" : backupState
        return BackupEvidence(
            backupName: "backup-\(workload.volume)", url: "s3://b@r/?backup=backup-\(workload.volume)&volume=\(workload.volume)",
            state: state, snapshotCreatedAt: "2027-01-15T08:00:00Z", volume: workload.volume)
    }
    func verifyInStore(_ backup: BackupEvidence) async throws -> StoreCheckResult {
        calls.append("verify-store")
        if storeCorrupt { throw StubFailure(message: "block at offset 2097152 (key backupstore/volumes/…/blocks/ab/cd/abcd.blk): checksum mismatch") }
        // What a store check reports: the hash of the sentinel file found in the backup.
        let hash = storeCheckOmitsSentinel ? "" : SHA256.hash(data: backedUp[backup.volume] ?? Data()).map { String(format: "%02x", $0) }.joined()
        return StoreCheckResult(blocksVerified: 3, bytesVerified: 3 << 21, sentinelSHA256: hash, sentinelBytes: 4096, store: "s3://bucket@us-east-1/")
    }
    func backupInventory(_ workload: ExerciseConfig.Workload) async throws -> BackupInventory {
        calls.append("inventory")
        let own = "backup-\(workload.volume)"
        guard newerScheduledBackup else { return BackupInventory(backups: 1, newestBackup: own, newestBackupAt: "2027-01-15T08:00:00Z") }
        return BackupInventory(
            backups: 2, newestBackup: "\(own)-scheduled", newestBackupAt: "2027-01-15T08:30:00Z",
            newestScheduledBackup: "\(own)-scheduled", newestScheduledBackupAt: "2027-01-15T08:30:00Z")
    }
    func destroy() async throws {
        calls.append("destroy")
        if destroyHangs { try await Task.sleep(for: .seconds(3600)) }
        guard !destroyDoesNothing else { return }
        apiUp = false
        if destroyFailures > 0 {
            destroyFailures -= 1
            throw StubFailure(message: "terragrunt: error destroying module nodes")
        }
        clock.advance(600)
        disks = [:]
    }
    func rebuild() async throws {
        calls.append("rebuild")
        if rebuildHangs { try await Task.sleep(for: .seconds(3600)) }
        if destroyDoesNothing { return }
        apiUp = true
        if rebuildFindsAnotherCluster {
            fingerprint = "kube-system=uid-other"
            return
        }
        generation += 1
        fingerprint = "kube-system=uid-\(generation)"
        restoredAt = clock.now()
        for (volume, data) in backedUp {
            let fresh = bootstrapStartsFresh || freshIn.contains(volume)
            disks[volume] = restoreWorks && !fresh ? data : Data()
            if damagedIn.contains(volume) { disks[volume] = Data(repeating: 0, count: data.count) }
        }
        if let (a, b) = swapped { (disks[a], disks[b]) = (disks[b], disks[a]) }
    }
    func waitReady() async throws -> RebuiltCluster {
        calls.append("wait-ready")
        guard apiUp else { throw StubFailure(message: "connection refused") }
        if rebuildFindsAnotherCluster { return RebuiltCluster(clusterFingerprint: fingerprint, restoreStartedAt: "2020-01-01T00:00:00Z") }
        return RebuiltCluster(
            clusterFingerprint: fingerprint, restoreStartedAt: ISO8601DateFormatter().string(from: restoredAt), flux: "not installed",
            alertmanager: alertmanager)
    }
    func workloadReady(_ workload: ExerciseConfig.Workload) async throws -> RestoredWorkload {
        let volume = workload.volume
        if rebuildFindsAnotherCluster { return RestoredWorkload(restoreDecision: "restore", restoredFrom: "backup-0", restoreMessage: "") }
        let fresh = bootstrapStartsFresh || freshIn.contains(volume)
        return RestoredWorkload(
            restoreDecision: fresh ? "fresh" : "restore",
            restoredFrom: fresh ? "" : (newerScheduledBackup ? "backup-\(volume)-scheduled" : "backup-\(volume)"), restoreMessage: "")
    }
    func readSentinel(from workload: ExerciseConfig.Workload) async throws -> Data {
        calls.append("read")
        return disks[workload.volume] ?? Data()
    }
}

/// A wall clock the tests move: the runner reads it, the environment advances it.
final class TestClock: @unchecked Sendable {
    private let lock = NSLock()
    private var offset: TimeInterval = 0
    func now() -> Date { lock.withLock { Date().addingTimeInterval(offset) } }
    func advance(_ seconds: TimeInterval) { lock.withLock { offset += seconds } }
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
    func save(_ journal: ExerciseJournal) async throws {
        saved = journal
        saves += 1
    }
}

@Suite struct ExerciseRunnerTests {
    /// - Parameter rebuild: a short budget for the rebuild alone (the phase the tests hang), so
    ///   the other phases are not timed out by a busy machine.
    static func config(total: Duration = .seconds(7200), phase: Duration = .seconds(60), rebuild: Duration? = nil) throws -> ExerciseConfig {
        var config = try ConfigLoader.loadExercise("kind: ExerciseConfig\ncluster: {name: dev}\nsentinel: {size: 4Ki}\n", file: "t.yaml")
        var phases = Dictionary(uniqueKeysWithValues: ExercisePhase.allCases.map { ($0, phase) })
        if let rebuild { phases[.rebuild] = rebuild }
        config.budgets = ExerciseConfig.Budgets(total: total, phases: phases)
        return config
    }

    func run(
        _ environment: ScriptedEnvironment, journal: MemoryJournal = MemoryJournal(), confirmed: Bool = true, resume: Bool = false,
        from: ExercisePhase? = nil, only: ExercisePhase? = nil, config: ExerciseConfig? = nil, budgetClock: any Clock<Duration> = ContinuousClock()
    ) async throws -> ExerciseReport {
        let clock = environment.clock
        return try await ExerciseRunner(
            config: config ?? Self.config(), environment: environment, journalStore: journal,
            options: .init(resume: resume, confirmedDestroy: confirmed, from: from ?? only, stopAfter: only), now: { clock.now() },
            clock: budgetClock
        ).run()
    }

    // MARK: - One phase at a time (--only, --from)

    /// The whole exercise as `--only` steps, one process each: the same phases, the same gates,
    /// and only the last step gives a verdict.
    @Test func onlyStepsThroughTheRunOnePhaseAtATime() async throws {
        let environment = ScriptedEnvironment()
        let journal = MemoryJournal()
        for phase in ExercisePhase.allCases where phase != .report && phase != .verify {
            let report = try await run(environment, journal: journal, only: phase)
            #expect(report.verdict == .incomplete, "\(phase): \(report.consoleText())")
            #expect(!report.somethingFailed, "\(phase): \(report.consoleText())")
            #expect(report.phases.first { $0.phase == phase }?.outcome == "completed")
            let next = ExercisePhase.allCases[ExercisePhase.allCases.firstIndex(of: phase)! + 1]
            #expect(report.phases.first { $0.phase == next }?.outcome == "not run", "\(phase) ran on into \(next)")
        }
        let last = try await run(environment, journal: journal, only: .verify)
        #expect(last.verdict == .pass, "\(last.consoleText())")
        #expect(last.exitStatus == .ok)
        let calls = await environment.calls
        #expect(calls.filter { $0 == "backup" }.count == 1)
        #expect(calls.filter { $0 == "destroy" }.count == 1)
    }

    @Test func onlyDestroyKeepsTheGate() async throws {
        let environment = ScriptedEnvironment()
        let journal = MemoryJournal()
        for phase in [ExercisePhase.preflight, .setup, .writeSentinel, .backup, .verifyBackupInStore] {
            _ = try await run(environment, journal: journal, only: phase)
        }
        let refused = try await run(environment, journal: journal, confirmed: false, only: .destroy)
        #expect(refused.verdict == .fail)
        #expect(refused.phases.first { $0.phase == .destroy }?.reason == "destroy-refused")
        #expect(await environment.calls.contains("destroy") == false)
        // Without the store check, the gate has nothing to open on: --from destroy is refused outright.
        let bare = MemoryJournal()
        _ = try await run(environment, journal: bare, only: .preflight)
        await #expect(throws: DRError.self) { try await run(environment, journal: bare, only: .destroy) }
        #expect(await environment.calls.contains("destroy") == false)
    }

    @Test func fromNeedsASavedRunWithEveryEarlierPhaseCompleted() async throws {
        let environment = ScriptedEnvironment()
        do {
            _ = try await run(environment, from: .backup)
            Issue.record("--from backup without a saved run went ahead")
        } catch let error as DRError {
            #expect(error.status == .usage)
            #expect("\(error)".contains("no saved run"), "\(error)")
        }
        let journal = MemoryJournal()
        _ = try await run(environment, journal: journal, only: .preflight)
        do {
            _ = try await run(environment, journal: journal, from: .backup)
            Issue.record("--from backup before setup completed went ahead")
        } catch let error as DRError {
            #expect("\(error)".contains("has not completed setup"), "\(error)")
            #expect("\(error)".contains("--from setup"), "\(error)")
        }
        #expect(await environment.calls.contains("backup") == false)
    }

    @Test func fromRunsAPhaseAgainAndEverythingAfterIt() async throws {
        let environment = ScriptedEnvironment()
        let journal = MemoryJournal()
        let first = try await run(environment, journal: journal)
        #expect(first.verdict == .pass)
        // Verify again on the rebuilt cluster, as after a manual look: nothing is destroyed twice.
        let again = try await run(environment, journal: journal, from: .verify)
        #expect(again.verdict == .pass, "\(again.consoleText())")
        #expect(again.resumes == 1)
        let calls = await environment.calls
        #expect(calls.filter { $0 == "destroy" }.count == 1)
        #expect(calls.filter { $0 == "read" }.count >= 2, "\(calls)")
    }

    @Test func noPhaseBeforeABegunDestroyRunsAgain() async throws {
        let environment = ScriptedEnvironment()
        let journal = MemoryJournal()
        await environment.configure(rebuildHangs: true)
        _ = try await run(environment, journal: journal, config: try Self.config(rebuild: .milliseconds(300)))
        await environment.configure(rebuildHangs: false)
        do {
            _ = try await run(environment, journal: journal, from: .backup)
            Issue.record("--from backup after destroy went ahead")
        } catch let error as DRError {
            #expect("\(error)".contains("began destroying"), "\(error)")
        }
        let report = try await run(environment, journal: journal, from: .rebuild)
        #expect(report.verdict == .pass, "\(report.consoleText())")
    }

    /// The runner alone owns budgets, on the clock it is given: an hour's budget runs out the
    /// moment that clock says an hour has passed, and the test does not wait for it.
    @Test func aBudgetRunsOutOnTheInjectedClock() async throws {
        let environment = ScriptedEnvironment()
        await environment.configure(rebuildHangs: true)
        let budgets = ManualClock()
        let config = try Self.config(phase: .seconds(3600))
        let running = Task { try await run(environment, config: config, budgetClock: budgets) }
        let started = ContinuousClock.now
        while await !environment.calls.contains("rebuild") {
            guard ContinuousClock.now - started < .seconds(60) else {
                Issue.record("the run never reached rebuild")
                break
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        // The phase's budget sleep reads the clock when its task runs: advance only once it waits.
        while budgets.sleeperCount == 0 {
            guard ContinuousClock.now - started < .seconds(60) else {
                Issue.record("the rebuild's budget never started waiting")
                break
            }
            try await Task.sleep(for: .milliseconds(10))
        }
        budgets.advance(by: .seconds(3599))
        try await Task.sleep(for: .milliseconds(50))
        #expect(await environment.calls.last == "rebuild", "a second short of the budget, the phase still runs")
        budgets.advance(by: .seconds(1))
        let report = try await running.value
        #expect(report.phases.first { $0.phase == .rebuild }?.reason == "timeout", "\(report.consoleText())")
        #expect(report.phases.first { $0.phase == .rebuild }?.message.contains("budget of 1h") == true)
    }

    @Test func passesWhenTheDataComesBack() async throws {
        let environment = ScriptedEnvironment()
        let report = try await run(environment)
        #expect(report.verdict == .pass, "\(report.consoleText())")
        #expect(report.exitStatus == .ok)
        #expect(await environment.calls == ["preflight", "setup", "write", "backup", "verify-store", "inventory", "destroy", "rebuild", "wait-ready", "read"])
        // RTO runs from the rebuild's start: the 10 minutes destroy took are reported apart.
        let rto = try #require(report.recoveryTime)
        #expect(rto < .seconds(60))
        #expect(try #require(report.destroyTime) >= .seconds(600))
        #expect(report.scheduledRecoveryPoint == nil)
        #expect(report.consoleText().contains("no recurring-job backup"))
    }

    @Test func theHealthGatesFactsAreJournaledAsWaitReadyEvidence() async throws {
        let environment = ScriptedEnvironment()
        await environment.setAlertmanager("2 allowed alerts firing: InfoInhibitor, Watchdog")
        let journal = MemoryJournal()
        let report = try await run(environment, journal: journal)
        #expect(report.verdict == .pass, "\(report.consoleText())")
        let saved = try #require(await journal.saved)
        #expect(saved.evidence(.waitReady, "alertmanager") == "2 allowed alerts firing: InfoInhibitor, Watchdog")
        #expect(saved.evidence(.waitReady, "flux") == "not installed")
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
        let report = try await run(environment, config: try Self.config(rebuild: .milliseconds(300)))
        #expect(report.verdict == .fail)
        #expect(report.phases.first { $0.phase == .rebuild }?.reason == "timeout")
        #expect(report.exitStatus == .infrastructure)
    }

    @Test func resumeContinuesWhereTheKilledRunStopped() async throws {
        let environment = ScriptedEnvironment()
        let journal = MemoryJournal()
        // A first run that stopped at rebuild (as if killed): the journal says so.
        await environment.configure(rebuildHangs: true)
        _ = try await run(environment, journal: journal, config: try Self.config(rebuild: .milliseconds(300)))
        await environment.configure(rebuildHangs: false)
        let report = try await run(environment, journal: journal, resume: true)
        #expect(report.verdict == .pass, "\(report.consoleText())")
        let calls = await environment.calls
        #expect(calls.filter { $0 == "backup" }.count == 1, "the backup is not taken again")
        #expect(calls.filter { $0 == "destroy" }.count == 1)
    }

    // MARK: - Proof that the cluster was rebuilt and its bootstrap restored this run's backup

    @Test func aDestroyThatDidNothingIsNotAPass() async throws {
        let environment = ScriptedEnvironment()
        await environment.set(destroyDoesNothing: true)
        let report = try await run(environment)
        #expect(report.verdict == .fail, "\(report.consoleText())")
        #expect(report.phases.first { $0.phase == .waitReady }?.reason == "not-rebuilt")
        #expect(report.failure?.contains("uid recorded at setup") == true, "\(report.failure ?? "")")
        #expect(report.exitStatus == .infrastructure)
        #expect(await environment.calls.contains("read") == false, "verify must not read an untouched volume")
    }

    @Test func anotherClusterBehindTheKubeconfigIsNotAPass() async throws {
        let environment = ScriptedEnvironment()
        await environment.set(rebuildFindsAnotherCluster: true)
        let report = try await run(environment)
        #expect(report.verdict == .fail, "\(report.consoleText())")
        #expect(report.failure?.contains("before the rebuild started") == true, "\(report.failure ?? "")")
        #expect(await environment.calls.contains("read") == false)
    }

    @Test func aBootstrapThatStartsTheVolumeFreshFails() async throws {
        let environment = ScriptedEnvironment()
        await environment.set(bootstrapStartsFresh: true)
        let report = try await run(environment)
        #expect(report.verdict == .fail)
        #expect(report.exitStatus == .verificationFailed)
        #expect(report.failure?.contains("decision for volume dr-exercise-data was \"fresh\"") == true, "\(report.failure ?? "")")
    }

    @Test func aNewerScheduledBackupRestoredInsteadIsAcceptedAndReported() async throws {
        // A recurring job backed the volume up between the exercise's backup and destroy: the
        // bootstrap restores that one, which holds the sentinel too; verify checks the bytes.
        let environment = ScriptedEnvironment()
        await environment.set(newerScheduledBackup: true)
        let report = try await run(environment)
        #expect(report.verdict == .pass, "\(report.consoleText())")
        #expect(report.scheduledRecoveryPoint != nil)
    }

    @Test func rebuildProofListsEveryMissingPiece() {
        var journal = ExerciseJournal(runID: "r", cluster: "c", startedAt: Date())
        journal.clusterFingerprint = "https://10.0.0.1:6443 kube-system=uid-1"  // an older version's form
        journal.complete(.backup, at: Date(), message: "", evidence: ["backup": "backup-1"])
        journal.begin(.rebuild, at: Date())
        let same = RebuildProof.check(
            journal: journal, cluster: RebuiltCluster(clusterFingerprint: "kube-system=uid-1", restoreStartedAt: ""),
            volumes: ["v": RestoredWorkload(restoreDecision: "", restoredFrom: "", restoreMessage: "")])
        #expect(same.notRebuilt.count == 2)
        #expect(same.notRestored.count == 1)
        let good = RebuildProof.check(
            journal: journal,
            cluster: RebuiltCluster(
                clusterFingerprint: "kube-system=uid-2",
                restoreStartedAt: ISO8601DateFormatter().string(from: Date())),
            volumes: ["v": RestoredWorkload(restoreDecision: "restore", restoredFrom: "backup-1", restoreMessage: "")])
        #expect(good == RebuildProof.Problems())
    }

    @Test func theSameClusterByIPOrNameHasOneFingerprint() {
        #expect(ClusterIdentity.uid("https://cluster.lan:6443 kube-system=abc") == ClusterIdentity.uid("kube-system=abc"))
        #expect(ClusterIdentity.uid("https://10.0.0.5:6443 kube-system=abc") == "abc")
        #expect(ClusterIdentity.uid("kube-system=?") == nil)
    }

    // MARK: - Resume

    @Test func resumeAfterAFailedDestroyContinuesWithoutTheGoneCluster() async throws {
        let environment = ScriptedEnvironment()
        let journal = MemoryJournal()
        await environment.set(destroyFailures: 1)
        let first = try await run(environment, journal: journal)
        #expect(first.verdict == .fail)
        #expect(await journal.saved?.destroyStarted != nil, "the mark is written before the first attempt")
        // The API is gone now: a gate asking for the fingerprint would refuse forever.
        let report = try await run(environment, journal: journal, resume: true)
        #expect(report.verdict == .pass, "\(report.consoleText())")
        #expect(report.resumes == 1)
        #expect(await environment.calls.filter { $0 == "destroy" }.count == 2)
        #expect(await environment.calls.filter { $0 == "inventory" }.count == 1)
    }

    @Test func aNewRunDoesNotOverwriteARunWhoseDestroyBeganAndWasNotRebuilt() async throws {
        let environment = ScriptedEnvironment()
        let journal = MemoryJournal()
        await environment.set(destroyFailures: 1)
        let first = try await run(environment, journal: journal)
        #expect(first.verdict == .fail)
        let saved = try #require(await journal.saved)
        await environment.set()
        // Without --resume: refused, the journal kept as it was.
        await #expect(throws: DRError.self) { _ = try await run(environment, journal: journal) }
        do {
            _ = try await run(environment, journal: journal)
        } catch let error as DRError {
            #expect(error.status == .usage)
            #expect("\(error)".contains("began destroying the cluster"), "\(error)")
            #expect("\(error)".contains("--resume"), "\(error)")
        }
        #expect(await journal.saved == saved, "nothing was overwritten")
        #expect(await environment.calls.filter { $0 == "destroy" }.count == 1, "no phase ran")
        // Once the operator has the cluster back by hand, --from preflight starts over on
        // purpose; a finished run's journal is never in the way of the next.
        let rebuiltByHand = ScriptedEnvironment()
        let fresh = try await run(rebuiltByHand, journal: journal, from: .preflight)
        #expect(fresh.verdict == .pass, "\(fresh.consoleText())")
        let next = try await run(ScriptedEnvironment(), journal: journal)
        #expect(next.verdict == .pass, "\(next.consoleText())")
    }

    @Test func anInterruptedDestroyIsJournaledAndResumes() async throws {
        let environment = ScriptedEnvironment()
        let journal = MemoryJournal()
        await environment.set(destroyHangs: true)
        let runner = Task { try await run(environment, journal: journal) }
        while await environment.calls.contains("destroy") == false { try await Task.sleep(for: .milliseconds(20)) }
        runner.cancel()
        let interrupted = try await runner.value
        #expect(interrupted.verdict == .incomplete, "\(interrupted.consoleText())")
        #expect(interrupted.phases.first { $0.phase == .destroy }?.reason == ExerciseReport.interrupted)
        #expect(await journal.saved?.phases[.destroy]?.outcome == .failed)
        await environment.set()
        let report = try await run(environment, journal: journal, resume: true)
        #expect(report.verdict == .pass, "\(report.consoleText())")
    }

    @Test func resumeLongAfterTheTotalGetsItsOwnClock() async throws {
        let environment = ScriptedEnvironment()
        let journal = MemoryJournal()
        await environment.configure(rebuildHangs: true)
        // The total is far above what the run needs (a loaded CI machine once stalled it past 30 s);
        // the gap below is on the injected clock, so it still lies far beyond the total.
        _ = try await run(environment, journal: journal, config: try Self.config(total: .seconds(120), rebuild: .milliseconds(300)))
        environment.clock.advance(3 * 3600)  // the operator comes back three hours later, long past the total
        await environment.configure(rebuildHangs: false)
        let report = try await run(environment, journal: journal, resume: true, config: try Self.config(total: .seconds(120), rebuild: .milliseconds(300)))
        #expect(report.verdict == .pass, "\(report.consoleText())")
        #expect(report.resumes == 1)
        #expect(report.total.map { $0 > .seconds(3 * 3600) } == true, "wall time includes the gap")
        #expect(report.activeTime < .seconds(3600), "time in phases does not")
    }

    // MARK: - Several volumes

    static func threeVolumes() throws -> ExerciseConfig {
        var config = try ConfigLoader.loadExercise(
            """
            kind: ExerciseConfig
            cluster: {name: dev}
            sentinel: {size: 4Ki}
            workloads:
              - {namespace: apps, deployment: photos, pvc: photos, volume: photos}
              - {namespace: apps, deployment: notes, pvc: notes, volume: notes}
              - {namespace: db, deployment: postgres, pvc: pgdata, volume: pgdata}
            """, file: "three.yaml")
        config.budgets = ExerciseConfig.Budgets(
            total: .seconds(7200), phases: Dictionary(uniqueKeysWithValues: ExercisePhase.allCases.map { ($0, Duration.seconds(5)) }))
        return config
    }

    static func verdicts(_ report: ExerciseReport) -> [String: String] {
        Dictionary(uniqueKeysWithValues: report.volumes.map { ($0.volume, $0.verdict) })
    }

    @Test func everyVolumeComesBackAndEachIsReported() async throws {
        let environment = ScriptedEnvironment()
        let report = try await run(environment, config: try Self.threeVolumes())
        #expect(report.verdict == .pass, "\(report.consoleText())")
        #expect(Self.verdicts(report) == ["photos": "PASS", "notes": "PASS", "pgdata": "PASS"])
        #expect(report.volumes.map(\.volume) == ["photos", "notes", "pgdata"], "config order")
        #expect(report.volumes.allSatisfy { $0.backup == "backup-\($0.volume)" && $0.restoredFrom == $0.backup })
        #expect(await environment.peakBackups == 3, "the backups run concurrently")
        let disks = await environment.disks
        #expect(Set(disks.values).count == 3, "each volume gets its own sentinel bytes")
        #expect(report.markdown().contains("| pgdata | PASS |"))
        #expect(report.junitXML().contains("name=\"notes\""))
    }

    @Test func oneDamagedVolumeFailsAloneAndTheOthersPass() async throws {
        let environment = ScriptedEnvironment()
        await environment.perVolume(damaged: ["notes"])
        let report = try await run(environment, config: try Self.threeVolumes())
        #expect(report.verdict == .fail)
        #expect(report.exitStatus == .verificationFailed)
        #expect(Self.verdicts(report) == ["photos": "PASS", "notes": "FAIL", "pgdata": "PASS"], "\(report.consoleText())")
        #expect(report.failure?.contains("1 of 3 volumes failed: notes:") == true, "\(report.failure ?? "")")
        let metrics = report.prometheusText(finishedAt: Date())
        #expect(metrics.contains("longhorn_dr_exercise_volume_success{cluster=\"dev\",volume=\"notes\"} 0"))
        #expect(metrics.contains("longhorn_dr_exercise_volume_success{cluster=\"dev\",volume=\"photos\"} 1"))
    }

    @Test func aVolumeTheBootstrapStartedFreshFailsAndTheOthersAreStillVerified() async throws {
        let environment = ScriptedEnvironment()
        await environment.perVolume(fresh: ["pgdata"])
        let report = try await run(environment, config: try Self.threeVolumes())
        #expect(report.verdict == .fail)
        #expect(report.exitStatus == .verificationFailed)
        #expect(Self.verdicts(report) == ["photos": "PASS", "notes": "PASS", "pgdata": "FAIL"], "\(report.consoleText())")
        #expect(report.volumes.first { $0.volume == "pgdata" }?.message.contains("was \"fresh\"") == true)
        #expect(await environment.calls.filter { $0 == "read" }.count == 2, "the volume that was not restored is not read")
    }

    @Test func volumesRestoredIntoEachOtherFailBoth() async throws {
        let environment = ScriptedEnvironment()
        await environment.perVolume(swapped: ("photos", "notes"))
        let report = try await run(environment, config: try Self.threeVolumes())
        #expect(Self.verdicts(report) == ["photos": "FAIL", "notes": "FAIL", "pgdata": "PASS"], "\(report.consoleText())")
    }

    @Test func oneFailedBackupStopsBeforeDestroyAndNamesTheVolume() async throws {
        let environment = ScriptedEnvironment()
        await environment.perVolume(backupError: ["notes"])
        let report = try await run(environment, config: try Self.threeVolumes())
        #expect(report.verdict == .fail)
        #expect(await environment.calls.contains("destroy") == false)
        #expect(Self.verdicts(report)["notes"] == "FAIL")
        #expect(Self.verdicts(report)["photos"] == "not verified")
        #expect(report.failure?.contains("backup backup-notes of volume notes ended in Error") == true, "\(report.failure ?? "")")
    }

    @Test func theWorstVolumeSetsTheScheduledRecoveryPoint() async throws {
        let environment = ScriptedEnvironment()
        await environment.set(newerScheduledBackup: true)
        let report = try await run(environment, config: try Self.threeVolumes())
        #expect(report.verdict == .pass, "\(report.consoleText())")
        #expect(report.scheduledRecoveryPoint != nil)
    }
}

/// A clock that moves only when told to: budget expiry without waiting for it.
final class ManualClock: Clock, @unchecked Sendable {
    struct Instant: InstantProtocol {
        var offset: Duration
        func advanced(by duration: Duration) -> Instant { Instant(offset: offset + duration) }
        func duration(to other: Instant) -> Duration { other.offset - offset }
        static func < (lhs: Instant, rhs: Instant) -> Bool { lhs.offset < rhs.offset }
    }

    private let lock = NSLock()
    private var current = Instant(offset: .zero)
    private var sleepers: [UUID: (deadline: Instant, continuation: CheckedContinuation<Void, any Error>)] = [:]

    var now: Instant { lock.withLock { current } }
    var minimumResolution: Duration { .zero }
    /// How many sleeps wait on this clock now.
    var sleeperCount: Int { lock.withLock { sleepers.count } }

    func sleep(until deadline: Instant, tolerance: Duration?) async throws {
        let id = UUID()
        try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Void, any Error>) in
                // Cancelled before this ran: the handler found nothing to resume, so end here.
                let outcome = lock.withLock { () -> Result<Bool, any Error> in
                    if Task.isCancelled { return .failure(CancellationError()) }
                    if deadline <= current { return .success(true) }
                    sleepers[id] = (deadline, continuation)
                    return .success(false)
                }
                switch outcome {
                case .failure(let error): continuation.resume(throwing: error)
                case .success(true): continuation.resume()
                case .success(false): break
                }
            }
        } onCancel: {
            lock.withLock { sleepers.removeValue(forKey: id) }?.continuation.resume(throwing: CancellationError())
        }
    }

    func advance(by duration: Duration) {
        let due = lock.withLock { () -> [CheckedContinuation<Void, any Error>] in
            current = current.advanced(by: duration)
            let ready = sleepers.filter { $0.value.deadline <= current }
            for id in ready.keys { sleepers.removeValue(forKey: id) }
            return ready.values.map(\.continuation)
        }
        for continuation in due { continuation.resume() }
    }
}
