import Crypto
import DRCore
import Foundation

/// Runs the DR exercise phase by phase: each within its budget and the total, its evidence
/// journaled before the next starts, destroy only behind the gate, and a report at the end.
public struct ExerciseRunner: Sendable {
    public struct Options: Sendable {
        /// Continue after the last completed phase of the saved journal.
        public var resume = false
        /// The operator agreed to destroy the cluster (`--yes` or a typed confirmation).
        public var confirmedDestroy = false
        public init(resume: Bool = false, confirmedDestroy: Bool = false) {
            self.resume = resume
            self.confirmedDestroy = confirmedDestroy
        }
    }

    public let config: ExerciseConfig
    public let environment: any ExerciseEnvironment
    public let journalStore: any JournalStore
    public let options: Options
    public let now: @Sendable () -> Date
    public let log: @Sendable (String) -> Void
    /// Random bytes for the sentinel (injected so tests can make them known).
    public let sentinelBytes: @Sendable (Int) -> Data

    public init(
        config: ExerciseConfig, environment: any ExerciseEnvironment, journalStore: any JournalStore, options: Options = Options(),
        now: @escaping @Sendable () -> Date = { Date() }, log: @escaping @Sendable (String) -> Void = { _ in },
        sentinelBytes: @escaping @Sendable (Int) -> Data = ExerciseRunner.randomBytes
    ) {
        self.config = config
        self.environment = environment
        self.journalStore = journalStore
        self.options = options
        self.now = now
        self.log = log
        self.sentinelBytes = sentinelBytes
    }

    public static func randomBytes(_ count: Int) -> Data {
        var generator = SystemRandomNumberGenerator()
        return Data((0..<count).map { _ in UInt8.random(in: 0...255, using: &generator) })
    }

    /// Runs (or resumes) the exercise and returns its report. Never throws for a phase failure:
    /// that is a FAIL in the report. Throws only when the journal cannot be read or written.
    /// Cancelling the calling task (Ctrl-C) stops the running phase's command and journals the
    /// phase as interrupted, so `--resume` continues there.
    public func run() async throws -> ExerciseReport {
        var journal: ExerciseJournal
        if options.resume, let saved = try await journalStore.load() {
            journal = saved
            journal.resumedAt = (journal.resumedAt ?? []) + [now()]
            log("resuming run \(journal.runID) at \(journal.nextPhase?.rawValue ?? "the report")")
        } else {
            journal = ExerciseJournal(runID: Self.runID(now()), cluster: config.cluster.name, startedAt: now())
        }
        // A failed phase is retried on resume; anything after it is forgotten. The destroy mark
        // stays: once destroy has begun, the old cluster may be gone.
        if let failed = ExercisePhase.allCases.first(where: { journal.phases[$0]?.outcome == .failed }) {
            for phase in ExercisePhase.allCases where phase.order >= failed.order { journal.phases[phase] = nil }
        }
        // Each invocation has the whole cap: a run resumed an hour later is not already out of time.
        let deadline = now().addingTimeInterval(Double(config.budgets.total.milliseconds) / 1000)
        phases: while let phase = journal.nextPhase, phase != .report {
            let remaining = deadline.timeIntervalSince(now())
            guard remaining > 0 else {
                journal.fail(phase, at: now(), reason: "timeout",
                    message: "this run's cap of \(DurationText.format(config.budgets.total)) (budgets.total) is used up; --resume continues with a new cap")
                try await journalStore.save(journal)
                break
            }
            let budget = min(config.budgets.budget(for: phase), .milliseconds(Int64(remaining * 1000)))
            log("▶ \(phase.rawValue) (budget \(DurationText.format(budget)))")
            journal.begin(phase, at: now())
            try await journalStore.save(journal)
            do {
                if phase == .destroy {
                    if let mark = journal.destroyStarted {
                        log("  destroy began at \(Self.timestamp(mark.at)) in this run: continuing it without the gate (the old cluster may be gone)")
                    } else {
                        let snapshot = journal
                        let mark = try await withBudget(budget, phase: phase) { try await self.openDestroyGate(snapshot) }
                        journal.destroyStarted = mark
                        try await journalStore.save(journal)
                    }
                }
                let snapshot = journal
                let (message, evidence) = try await withBudget(budget, phase: phase) { try await self.execute(phase, snapshot) }
                journal.complete(phase, at: now(), message: message, evidence: evidence)
                if phase == .setup, journal.clusterFingerprint == nil {
                    journal.clusterFingerprint = evidence["clusterFingerprint"]
                }
                log("  ✓ \(message)")
                try await journalStore.save(journal)
            } catch {
                let (reason, message) = Task.isCancelled
                    ? (ExerciseReport.interrupted, "interrupted while running \(phase.rawValue); --resume continues here")
                    : Self.describe(error)
                journal.fail(phase, at: now(), reason: reason, message: message)
                log("  ✗ \(message)")
                try await journalStore.save(journal)
                break phases
            }
        }
        if journal.nextPhase == .report {
            journal.begin(.report, at: now())
            journal.complete(.report, at: now(), message: "report written")
            try await journalStore.save(journal)
        }
        return ExerciseReport(journal: journal, budgets: config.budgets, finishedAt: now())
    }

    /// A phase's error as the journal's reason code and message.
    static func describe(_ error: any Error) -> (String, String) {
        switch error {
        case let failure as PhaseFailure: (failure.reason, failure.message)
        case let failure as DRError where failure.status == .verificationFailed: ("verification-failed", failure.description)
        case let failure as DRError where failure.status == .environment: ("environment", failure.description)
        default: ("error", "\(error)")
        }
    }

    /// The gate, checked once before the first destroy attempt; then what the cluster holds
    /// (newest backups) is recorded with the mark, since it cannot be asked afterwards.
    private func openDestroyGate(_ journal: ExerciseJournal) async throws -> ExerciseJournal.DestroyMark {
        let fingerprint = try? await environment.clusterFingerprint()
        let problems = DestroyGate.problems(journal: journal, currentFingerprint: fingerprint, operatorConfirmed: options.confirmedDestroy)
        guard problems.isEmpty else {
            throw PhaseFailure(reason: "destroy-refused", message: "refusing to destroy cluster \(config.cluster.name): \(problems.joined(separator: "; "))")
        }
        let inventory: [String: String]
        do {
            inventory = try await environment.backupInventory()
        } catch {
            log("  warning: could not list the volume's backups before destroy (the scheduled RPO will be missing): \(error)")
            inventory = [:]
        }
        return ExerciseJournal.DestroyMark(at: now(), evidence: inventory)
    }

    static func timestamp(_ date: Date) -> String { ISO8601DateFormatter().string(from: date) }

    static func runID(_ date: Date) -> String {
        let formatter = DateFormatter()
        formatter.locale = Locale(identifier: "en_US_POSIX")
        formatter.timeZone = TimeZone(identifier: "UTC")
        formatter.dateFormat = "yyyyMMdd'T'HHmmss'Z'"
        return "dr-\(formatter.string(from: date))"
    }

    /// A phase's failure with a stable reason code.
    struct PhaseFailure: Error {
        var reason: String
        var message: String
    }

    private func withBudget<T: Sendable>(_ budget: Duration, phase: ExercisePhase, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await body() }
            group.addTask {
                try await Task.sleep(for: budget)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let result = first else {
                throw PhaseFailure(reason: "timeout", message: "\(phase.rawValue) did not finish within its budget of \(DurationText.format(budget))")
            }
            return result
        }
    }

    private func execute(_ phase: ExercisePhase, _ journal: ExerciseJournal) async throws -> (String, [String: String]) {
        switch phase {
        case .preflight:
            let facts = try await environment.preflight()
            return ("tools, cluster and Longhorn checked", facts)
        case .setup:
            var evidence = try await environment.setUpWorkload()
            evidence["clusterFingerprint"] = try await environment.clusterFingerprint()
            return ("workload \(config.workload.namespace)/\(config.workload.deployment) running with PVC \(config.workload.pvc)", evidence)
        case .writeSentinel:
            let bytes = sentinelBytes(Int(config.sentinel.size.bytes))
            let readBack = try await environment.writeSentinel(bytes)
            let sha = Self.sha256(bytes)
            guard readBack == bytes else {
                throw PhaseFailure(reason: "sentinel-write-mismatch", message: "the pod read back \(readBack.count) bytes that differ from the \(bytes.count) written")
            }
            return ("sentinel \(config.sentinel.file) written (\(bytes.count) bytes, sha256 \(sha.prefix(12))…)", ["sentinelSHA256": sha, "sentinelBytes": String(bytes.count)])
        case .backup:
            let backup = try await environment.backUp()
            guard backup.state == "Completed" else {
                throw PhaseFailure(reason: "backup-error", message: "backup \(backup.backupName) ended in \(backup.state)")
            }
            return ("backup \(backup.backupName) Completed", ["backup": backup.backupName, "url": backup.url, "state": backup.state,
                "snapshotCreatedAt": backup.snapshotCreatedAt, "volume": backup.volume])
        case .verifyBackupInStore:
            let backup = BackupEvidence(backupName: journal.evidence(.backup, "backup") ?? "", url: journal.evidence(.backup, "url") ?? "",
                state: journal.evidence(.backup, "state") ?? "", snapshotCreatedAt: journal.evidence(.backup, "snapshotCreatedAt") ?? "",
                volume: journal.evidence(.backup, "volume") ?? "")
            let evidence = try await environment.verifyInStore(backup)
            // The gate's point: the backup holds the sentinel written a phase ago, byte for byte.
            // A backup without it (snapshot taken before the write landed, wrong volume) is a FAIL.
            let written = journal.evidence(.writeSentinel, "sentinelSHA256") ?? ""
            let stored = evidence["storeSentinelSHA256"] ?? ""
            guard !written.isEmpty, stored == written else {
                throw PhaseFailure(reason: "verification-failed",
                    message: "backup \(backup.backupName) does not hold the sentinel written earlier: "
                        + (stored.isEmpty ? "the store check returned no sentinel hash" : "its \(config.sentinel.file) has sha256 \(stored.prefix(12))…, expected \(written.prefix(12))…")
                        + "; the cluster is not destroyed")
            }
            return ("backup read back from the store, every block verified, sentinel present byte for byte", evidence)
        case .destroy:
            try await environment.destroy()
            return ("cluster \(config.cluster.name) destroyed", [:])
        case .rebuild:
            try await environment.rebuild()
            return ("cluster \(config.cluster.name) rebuilt", [:])
        case .waitReady:
            let evidence = try await environment.waitReady()
            // Without proof that this is a new cluster whose bootstrap restored this run's backup,
            // a PASS could come from a cluster that was never destroyed.
            let proof = RebuildProof.check(journal: journal, evidence: evidence)
            if !proof.notRebuilt.isEmpty {
                throw PhaseFailure(reason: "not-rebuilt", message: "the cluster answering is not a rebuilt one: \(proof.notRebuilt.joined(separator: "; "))")
            }
            if !proof.notRestored.isEmpty {
                throw PhaseFailure(reason: "verification-failed",
                    message: "the rebuilt cluster's bootstrap did not restore this run's backup: \(proof.notRestored.joined(separator: "; "))")
            }
            return ("new cluster (kube-system \(ClusterIdentity.uid(evidence["clusterFingerprint"]) ?? "?")), its bootstrap restored \(evidence["restoredFrom"] ?? "?"), workload ready", evidence)
        case .verify:
            let bytes = try await environment.readSentinel()
            let expected = journal.evidence(.writeSentinel, "sentinelSHA256") ?? ""
            let actual = Self.sha256(bytes)
            guard actual == expected else {
                throw PhaseFailure(reason: "verification-failed",
                    message: "sentinel differs after restore: sha256 \(actual.prefix(12))… (\(bytes.count) bytes), expected \(expected.prefix(12))…")
            }
            return ("sentinel matches byte for byte (sha256 \(actual.prefix(12))…)", ["sentinelMatch": "true", "sentinelSHA256": actual])
        case .report:
            return ("report written", [:])
        }
    }

    static func sha256(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}

extension ExercisePhase {
    var order: Int { ExercisePhase.allCases.firstIndex(of: self) ?? 0 }
}
