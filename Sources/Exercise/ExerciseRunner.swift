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
        /// Start the saved run again at this phase (`--from`, `--only`): every phase before it
        /// must have completed in that run; it and what follows run again. `preflight` starts a
        /// new run.
        public var from: ExercisePhase?
        /// Stop after this phase (`--only`).
        public var stopAfter: ExercisePhase?
        public init(resume: Bool = false, confirmedDestroy: Bool = false, from: ExercisePhase? = nil, stopAfter: ExercisePhase? = nil) {
            self.resume = resume
            self.confirmedDestroy = confirmedDestroy
            self.from = from
            self.stopAfter = stopAfter
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
    /// What phase budgets are measured on (injected so a test sees a budget run out without
    /// waiting for it).
    public let clock: any Clock<Duration>

    public init(
        config: ExerciseConfig, environment: any ExerciseEnvironment, journalStore: any JournalStore, options: Options = Options(),
        now: @escaping @Sendable () -> Date = { Date() }, log: @escaping @Sendable (String) -> Void = { _ in },
        sentinelBytes: @escaping @Sendable (Int) -> Data = ExerciseRunner.randomBytes, clock: any Clock<Duration> = ContinuousClock()
    ) {
        self.clock = clock
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
        if let from = options.from, from != .preflight {
            journal = try Self.restart(try await journalStore.load(), at: from, flag: options.stopAfter == from ? "--only" : "--from")
            journal.resumedAt = (journal.resumedAt ?? []) + [now()]
            log("run \(journal.runID) again from \(from.rawValue)")
        } else if options.resume, let saved = try await journalStore.load() {
            journal = saved
            journal.resumedAt = (journal.resumedAt ?? []) + [now()]
            log("resuming run \(journal.runID) at \(journal.nextPhase?.rawValue ?? "the report")")
        } else {
            if options.from == nil, !options.resume, let saved = try await journalStore.load(), let mark = saved.destroyStarted,
                saved.phases[.rebuild]?.outcome != .completed
            {
                // A new run would overwrite the only record of a cluster that may be half gone:
                // which backups hold the sentinel, and that destroy already ran.
                throw DRError(
                    .usage, subject: "exercise run \(saved.runID) on cluster \(saved.cluster)",
                    detail: "began destroying the cluster at \(Self.timestamp(mark.at)) and was not rebuilt; a new run would overwrite its journal",
                    hint: "continue it with --resume (it rebuilds and verifies), or start over anyway with --from preflight")
            }
            journal = ExerciseJournal(runID: Self.runID(now()), cluster: config.cluster.name, startedAt: now())
            journal.volumes = config.workloads.map(\.volume)
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
                journal.fail(
                    phase, at: now(), reason: "timeout",
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
                let result = try await withBudget(budget, phase: phase) { try await self.execute(phase, snapshot) }
                let (message, evidence) = (result.message, result.evidence)
                journal.complete(phase, at: now(), message: message, evidence: evidence, volumes: result.volumes)
                if phase == .setup, journal.clusterFingerprint == nil {
                    journal.clusterFingerprint = result.clusterFingerprint
                }
                log("  ✓ \(message)")
                try await journalStore.save(journal)
                if phase == options.stopAfter { break phases }
            } catch {
                let (reason, message) =
                    Task.isCancelled
                    ? (ExerciseReport.interrupted, "interrupted while running \(phase.rawValue); --resume continues here")
                    : Self.describe(error)
                journal.fail(phase, at: now(), reason: reason, message: message, volumes: (error as? VolumeFailures)?.volumes)
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

    /// The saved run, made ready to run again at `phase`: every phase before it completed (the
    /// later ones need their evidence), none before a begun destroy (the cluster they ran on may
    /// be gone); `phase` and everything after it are forgotten.
    static func restart(_ saved: ExerciseJournal?, at phase: ExercisePhase, flag: String) throws -> ExerciseJournal {
        guard var journal = saved else {
            throw DRError(
                .usage, subject: "\(flag) \(phase.rawValue)", detail: "there is no saved run to continue",
                hint: "start a run first: exercise --config FILE (or --only preflight)")
        }
        if let missing = ExercisePhase.allCases.first(where: { $0.order < phase.order && journal.phases[$0]?.outcome != .completed }) {
            throw DRError(
                .usage, subject: "\(flag) \(phase.rawValue)",
                detail: "run \(journal.runID) has not completed \(missing.rawValue), which \(phase.rawValue) builds on",
                hint: "run \(missing.rawValue) first: --only \(missing.rawValue), --from \(missing.rawValue) or --resume")
        }
        if let mark = journal.destroyStarted, phase.order < ExercisePhase.destroy.order {
            throw DRError(
                .usage, subject: "\(flag) \(phase.rawValue)",
                detail: "run \(journal.runID) began destroying its cluster at \(timestamp(mark.at)); the phases before destroy ran on that cluster",
                hint: "go on with --from destroy (or later), or start a new run without --from")
        }
        for later in ExercisePhase.allCases where later.order >= phase.order { journal.phases[later] = nil }
        return journal
    }

    /// A phase's error as the journal's reason code and message.
    static func describe(_ error: any Error) -> (String, String) {
        switch error {
        case let failure as PhaseFailure: (failure.reason, failure.message)
        case let failure as VolumeFailures: (failure.reason, failure.message)
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
        var volumes: [String: [String: String]] = [:]
        for workload in config.workloads {
            do {
                volumes[workload.volume] = try await environment.backupInventory(workload).facts
            } catch {
                log("  warning: could not list volume \(workload.volume)'s backups before destroy (its scheduled RPO will be missing): \(error)")
            }
        }
        // The run-wide figure is the worst volume's: the oldest newest scheduled backup.
        var evidence: [String: String] = [:]
        if let oldest = volumes.values.compactMap({ $0[ExerciseReport.newestScheduledBackupAt] }).filter({ !$0.isEmpty }).min() {
            evidence[ExerciseReport.newestScheduledBackupAt] = oldest
        }
        return ExerciseJournal.DestroyMark(at: now(), evidence: evidence, volumes: volumes)
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

    /// Runs `body` within `budget`: the only place a phase's time is enforced. The environment
    /// sees the deadline through `PhaseBudget` to size its own waits.
    private func withBudget<T: Sendable>(_ budget: Duration, phase: ExercisePhase, _ body: @escaping @Sendable () async throws -> T) async throws -> T {
        let clock = self.clock
        let deadline = ContinuousClock.now + budget
        return try await withThrowingTaskGroup(of: T?.self) { group in
            group.addTask { try await PhaseBudget.$deadline.withValue(deadline) { try await body() } }
            group.addTask {
                try await clock.sleep(for: budget)
                return nil
            }
            defer { group.cancelAll() }
            guard let first = try await group.next(), let result = first else {
                throw PhaseFailure(reason: "timeout", message: "\(phase.rawValue) did not finish within its budget of \(DurationText.format(budget))")
            }
            return result
        }
    }

    /// A phase's result: the message, run-wide evidence, and evidence by volume.
    struct PhaseResult: Sendable {
        var message: String
        var evidence: [String: String] = [:]
        var volumes: [String: [String: String]]?
        /// Setup's: the cluster the run started on.
        var clusterFingerprint: String?
    }

    /// Some volumes failed a phase: each one's failure is journaled with it, so the report names
    /// every volume that failed and why, not only the first.
    struct VolumeFailures: Error {
        var reason: String
        var message: String
        var volumes: [String: [String: String]]
    }

    /// Runs `body` for every workload, at most eight at once, and collects each one's evidence
    /// or failure (a failure does not stop the others).
    private func forEachWorkload<T: Sendable>(
        _ workloads: [ExerciseConfig.Workload], _ body: @escaping @Sendable (ExerciseConfig.Workload) async throws -> T
    ) async throws -> [String: Result<T, any Error>] {
        try await withThrowingTaskGroup(of: (String, Result<T, any Error>).self) { group in
            var results: [String: Result<T, any Error>] = [:]
            var pending = workloads[...]
            func startNext() {
                guard let workload = pending.popFirst() else { return }
                group.addTask {
                    do { return (workload.volume, .success(try await body(workload))) } catch { return (workload.volume, .failure(error)) }
                }
            }
            for _ in 0..<8 { startNext() }
            while let (volume, result) = try await group.next() {
                try Task.checkCancellation()
                results[volume] = result
                startNext()
            }
            return results
        }
    }

    /// Evidence by volume, with each failure as `failure`/`failureReason`; throws
    /// `VolumeFailures` when any failed and `tolerate` does not allow it.
    private func collect(
        _ results: [String: Result<[String: String], any Error>], phase: ExercisePhase, tolerate: Bool = false
    ) throws -> [String: [String: String]] {
        var volumes: [String: [String: String]] = [:]
        var failures: [(volume: String, reason: String, message: String)] = []
        for workload in config.workloads {
            guard let result = results[workload.volume] else { continue }
            switch result {
            case .success(let facts): volumes[workload.volume] = facts
            case .failure(let error):
                let (reason, message) = Self.describe(error)
                failures.append((workload.volume, reason, message))
                volumes[workload.volume] = [ExerciseJournal.failureKey: message, ExerciseJournal.failureReasonKey: reason]
            }
        }
        if !failures.isEmpty, !tolerate {
            throw Self.volumeFailures(failures, of: config.workloads.count, volumes: volumes)
        }
        return volumes
    }

    static func volumeFailures(
        _ failures: [(volume: String, reason: String, message: String)], of total: Int,
        volumes: [String: [String: String]]
    ) -> VolumeFailures {
        // A volume whose data did not come back decides the exit code over any other failure.
        let reason = failures.first { $0.reason == "verification-failed" }?.reason ?? failures[0].reason
        let message =
            total == 1
            ? failures[0].message
            : "\(failures.count) of \(total) volumes failed: " + failures.map { "\($0.volume): \($0.message)" }.joined(separator: "; ")
        return VolumeFailures(reason: reason, message: message, volumes: volumes)
    }

    private var volumeList: String {
        config.workloads.count == 1 ? "volume \(config.workloads[0].volume)" : "\(config.workloads.count) volumes"
    }

    private func execute(_ phase: ExercisePhase, _ journal: ExerciseJournal) async throws -> PhaseResult {
        let environment = self.environment
        switch phase {
        case .preflight:
            let facts = try await environment.preflight()
            return PhaseResult(message: "tools, cluster and Longhorn checked", evidence: facts.facts)
        case .setup:
            let volumes = try await environment.setUpWorkloads()
            let fingerprint = try await environment.clusterFingerprint()
            let names = config.workloads.map { "\($0.namespace)/\($0.deployment)" }.joined(separator: ", ")
            return PhaseResult(
                message: "workload\(config.workloads.count == 1 ? "" : "s") \(names) running", evidence: ["clusterFingerprint": fingerprint],
                volumes: volumes.mapValues(\.facts), clusterFingerprint: fingerprint)
        case .writeSentinel:
            let size = Int(config.sentinel.size.bytes)
            let sentinelBytes = self.sentinelBytes
            // Different bytes in each volume: a restore that mixes volumes up cannot pass.
            let results = try await forEachWorkload(config.workloads) { workload in
                let bytes = sentinelBytes(size)
                let readBack = try await environment.writeSentinel(bytes, into: workload)
                guard readBack == bytes else {
                    throw PhaseFailure(
                        reason: "sentinel-write-mismatch",
                        message: "the pod read back \(readBack.count) bytes from volume \(workload.volume) that differ from the \(bytes.count) written")
                }
                return ["sentinelSHA256": Self.sha256(bytes), "sentinelBytes": String(bytes.count)]
            }
            let volumes = try collect(results, phase: phase)
            return PhaseResult(message: "sentinel \(config.sentinel.file) written into \(volumeList) (\(size) bytes each)", volumes: volumes)
        case .backup:
            let results = try await forEachWorkload(config.workloads) { workload in
                let backup = try await environment.backUp(workload)
                guard backup.state == "Completed" else {
                    throw PhaseFailure(reason: "backup-error", message: "backup \(backup.backupName) of volume \(workload.volume) ended in \(backup.state)")
                }
                return [
                    "backup": backup.backupName, "url": backup.url, "state": backup.state, "snapshotCreatedAt": backup.snapshotCreatedAt,
                    "volume": backup.volume,
                ]
            }
            let volumes = try collect(results, phase: phase)
            // Run-wide: every backup Completed (the destroy gate's test) and the oldest snapshot
            // (the run's recovery point is its worst volume's).
            let oldest = volumes.values.compactMap { $0["snapshotCreatedAt"] }.min() ?? ""
            var evidence = ["state": "Completed", "snapshotCreatedAt": oldest]
            if config.workloads.count == 1, let only = volumes.values.first { evidence.merge(only) { $1 } }
            let names = config.workloads.compactMap { volumes[$0.volume]?["backup"] }.joined(separator: ", ")
            return PhaseResult(message: "backup\(config.workloads.count == 1 ? "" : "s") \(names) Completed", evidence: evidence, volumes: volumes)
        case .verifyBackupInStore:
            let sentinelFile = config.sentinel.file
            let results = try await forEachWorkload(config.workloads) { workload in
                let volume = workload.volume
                let backup = try BackupEvidence(journal: journal, volume: volume)
                let checked = try await environment.verifyInStore(backup)
                // The gate's point: the backup holds the sentinel written a phase ago, byte for byte.
                // A backup without it (snapshot taken before the write landed, wrong volume) is a FAIL.
                let written = journal.evidence(.writeSentinel, "sentinelSHA256", volume: volume) ?? ""
                let stored = checked.sentinelSHA256
                guard !written.isEmpty, stored == written else {
                    throw PhaseFailure(
                        reason: "verification-failed",
                        message: "backup \(backup.backupName) does not hold the sentinel written earlier: "
                            + (stored.isEmpty
                                ? "the store check returned no sentinel hash"
                                : "its \(sentinelFile) has sha256 \(stored.prefix(12))…, expected \(written.prefix(12))…")
                            + "; the cluster is not destroyed")
                }
                return checked.facts
            }
            let volumes = try collect(results, phase: phase)
            return PhaseResult(
                message: "backup\(config.workloads.count == 1 ? "" : "s") read back from the store, every block verified, sentinel present byte for byte",
                volumes: volumes)
        case .destroy:
            try await environment.destroy()
            return PhaseResult(message: "cluster \(config.cluster.name) destroyed")
        case .rebuild:
            try await environment.rebuild()
            return PhaseResult(message: "cluster \(config.cluster.name) rebuilt")
        case .waitReady:
            return try await waitReady(journal)
        case .verify:
            // Volumes that already failed (not restored) are not read again; they keep their failure.
            let failedBefore = Set(config.workloads.map(\.volume).filter { journal.failure(of: $0) != nil })
            let results = try await forEachWorkload(config.workloads.filter { !failedBefore.contains($0.volume) }) { workload in
                let bytes = try await environment.readSentinel(from: workload)
                let expected = journal.evidence(.writeSentinel, "sentinelSHA256", volume: workload.volume) ?? ""
                let actual = Self.sha256(bytes)
                guard actual == expected else {
                    throw PhaseFailure(
                        reason: "verification-failed",
                        message:
                            "volume \(workload.volume)'s sentinel differs after restore: sha256 \(actual.prefix(12))… (\(bytes.count) bytes), expected \(expected.prefix(12))…"
                    )
                }
                return ["sentinelMatch": "true", "sentinelSHA256": actual]
            }
            var volumes = try collect(results, phase: phase, tolerate: true)
            var failures: [(volume: String, reason: String, message: String)] = []
            for workload in config.workloads {
                if let earlier = journal.failure(of: workload.volume) {
                    failures.append((workload.volume, earlier.reason, "\(earlier.phase.rawValue): \(earlier.message)"))
                } else if let message = volumes[workload.volume]?[ExerciseJournal.failureKey] {
                    failures.append((workload.volume, volumes[workload.volume]?[ExerciseJournal.failureReasonKey] ?? "error", message))
                }
            }
            guard failures.isEmpty else {
                for failure in failures where volumes[failure.volume] == nil { volumes[failure.volume] = [:] }
                throw Self.volumeFailures(failures, of: config.workloads.count, volumes: volumes)
            }
            let hash = config.workloads.count == 1 ? " (sha256 \(volumes.values.first?["sentinelSHA256"]?.prefix(12) ?? "")…)" : ""
            var evidence = ["sentinelMatch": "true"]
            if config.workloads.count == 1, let only = volumes.values.first { evidence.merge(only) { $1 } }
            return PhaseResult(message: "sentinel matches byte for byte in \(volumeList)\(hash)", evidence: evidence, volumes: volumes)
        case .report:
            return PhaseResult(message: "report written")
        }
    }

    /// The new cluster answers, its bootstrap restored every volume from this run's backup, and
    /// the workloads run. A volume that did not come back is journaled as failed and the others
    /// go on to verify; the phase fails when the cluster is not a rebuilt one or nothing came back.
    private func waitReady(_ journal: ExerciseJournal) async throws -> PhaseResult {
        let environment = self.environment
        let cluster = try await environment.waitReady()
        let evidence = cluster.facts
        let results = try await forEachWorkload(config.workloads) { try await environment.workloadReady($0) }
        var volumes = try collect(results.mapValues { $0.map(\.facts) }, phase: .waitReady, tolerate: true)
        let rows = results.compactMapValues { try? $0.get() }
        // Without proof that this is a new cluster whose bootstrap restored this run's backups,
        // a PASS could come from a cluster that was never destroyed.
        let proof = RebuildProof.check(journal: journal, cluster: cluster, volumes: rows)
        if !proof.notRebuilt.isEmpty {
            throw PhaseFailure(reason: "not-rebuilt", message: "the cluster answering is not a rebuilt one: \(proof.notRebuilt.joined(separator: "; "))")
        }
        for (volume, problem) in proof.notRestored {
            volumes[volume, default: [:]][ExerciseJournal.failureKey] = "the rebuilt cluster's bootstrap did not restore this run's backup: \(problem)"
            volumes[volume, default: [:]][ExerciseJournal.failureReasonKey] = "verification-failed"
        }
        let failed = config.workloads.filter { volumes[$0.volume]?[ExerciseJournal.failureKey] != nil }
        if failed.count == config.workloads.count {
            throw Self.volumeFailures(
                failed.map {
                    ($0.volume, volumes[$0.volume]?[ExerciseJournal.failureReasonKey] ?? "error", volumes[$0.volume]?[ExerciseJournal.failureKey] ?? "")
                },
                of: config.workloads.count, volumes: volumes)
        }
        var facts = evidence
        if config.workloads.count == 1, let only = volumes.values.first { facts.merge(only) { $1 } }
        let restored = config.workloads.compactMap { workload in volumes[workload.volume]?["restoredFrom"].map { "\(workload.volume) from \($0)" } }
        let message =
            "new cluster (kube-system \(ClusterIdentity.uid(cluster.clusterFingerprint) ?? "?")), its bootstrap restored \(restored.joined(separator: ", ")), workload\(config.workloads.count == 1 ? "" : "s") ready"
            + (failed.isEmpty ? "" : "; not restored: \(failed.map(\.volume).joined(separator: ", "))")
        return PhaseResult(message: message, evidence: facts, volumes: volumes)
    }

    static func sha256(_ data: Data) -> String {
        SHA256.hash(data: data).map { String(format: "%02x", $0) }.joined()
    }
}

extension ExercisePhase {
    var order: Int { ExercisePhase.allCases.firstIndex(of: self) ?? 0 }
}
