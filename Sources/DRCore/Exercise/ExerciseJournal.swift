import Foundation

/// The exercise's evidence, kept outside the cluster (a 0600 file) so it survives the cluster's
/// destruction and lets `--resume` continue after the last completed phase.
public struct ExerciseJournal: Sendable, Codable, Equatable {
    public struct PhaseRecord: Sendable, Codable, Equatable {
        public enum Outcome: String, Sendable, Codable { case running, completed, failed }
        public var outcome: Outcome
        public var startedAt: Date
        public var finishedAt: Date?
        /// A stable code (`ok`, `timeout`, `backup-error`, `sentinel-mismatch`...).
        public var reason: String
        public var message: String
        /// What the phase proved about the run as a whole (for phases that work per volume: the
        /// worst case, e.g. the oldest snapshot), e.g. `backup: backup-3f2a…`.
        public var evidence: [String: String]
        /// What it proved per volume, by volume name; a volume that failed has `failure` and
        /// `failureReason`. Absent in journals of versions with one volume per exercise.
        public var volumes: [String: [String: String]]?

        public var duration: Duration? {
            finishedAt.map { .milliseconds(Int64(($0.timeIntervalSince(startedAt) * 1000).rounded())) }
        }
    }

    /// Written just before the destroy command first runs. From then on the cluster may be gone,
    /// so a resumed run continues destroy and rebuild without asking the (old) cluster again.
    public struct DestroyMark: Sendable, Codable, Equatable {
        public var at: Date
        /// What the cluster held at that moment (newest backup, newest scheduled backup); the
        /// per-volume figures in `volumes`, the worst case here.
        public var evidence: [String: String]
        public var volumes: [String: [String: String]]?
        public init(at: Date, evidence: [String: String], volumes: [String: [String: String]]? = nil) {
            self.at = at
            self.evidence = evidence
            self.volumes = volumes
        }

        /// A volume's figure, falling back to the run-wide one (journals with one volume).
        public func evidence(_ key: String, volume: String) -> String? { volumes?[volume]?[key] ?? evidence[key] }
    }

    public var runID: String
    public var cluster: String
    /// Identifies the cluster the run started on (`kube-system=<uid>`); destroy refuses to run
    /// against anything else, and the rebuilt cluster must not have it.
    public var clusterFingerprint: String?
    public var startedAt: Date
    public var phases: [ExercisePhase: PhaseRecord]
    public var destroyStarted: DestroyMark?
    /// When each `--resume` of this run began (optional: journals of older versions lack it).
    public var resumedAt: [Date]?
    /// The exercise's volumes, in config order (absent in journals with one volume per exercise).
    public var volumes: [String]?

    public init(runID: String, cluster: String, startedAt: Date) {
        self.runID = runID
        self.cluster = cluster
        self.startedAt = startedAt
        self.phases = [:]
    }

    /// The first phase not completed yet, in order; nil when all are.
    public var nextPhase: ExercisePhase? {
        ExercisePhase.allCases.first { phases[$0]?.outcome != .completed }
    }

    public func evidence(_ phase: ExercisePhase, _ key: String) -> String? { phases[phase]?.evidence[key] }

    /// A volume's evidence, falling back to the phase-wide one (journals with one volume).
    public func evidence(_ phase: ExercisePhase, _ key: String, volume: String) -> String? {
        phases[phase]?.volumes?[volume]?[key] ?? phases[phase]?.evidence[key]
    }

    /// The first failure recorded for a volume, in phase order: (phase, reason, message).
    public func failure(of volume: String) -> (phase: ExercisePhase, reason: String, message: String)? {
        for phase in ExercisePhase.allCases {
            if let facts = phases[phase]?.volumes?[volume], let message = facts[Self.failureKey] {
                return (phase, facts[Self.failureReasonKey] ?? "error", message)
            }
        }
        return nil
    }

    /// Per-volume evidence keys of a failure.
    public static let failureKey = "failure"
    public static let failureReasonKey = "failureReason"

    public mutating func begin(_ phase: ExercisePhase, at time: Date) {
        phases[phase] = PhaseRecord(outcome: .running, startedAt: time, finishedAt: nil, reason: "running", message: "", evidence: [:])
    }

    public mutating func complete(
        _ phase: ExercisePhase, at time: Date, message: String, evidence: [String: String] = [:], volumes: [String: [String: String]]? = nil
    ) {
        end(phase, at: time, outcome: .completed, reason: "ok", message: message, evidence: evidence, volumes: volumes)
    }

    public mutating func fail(
        _ phase: ExercisePhase, at time: Date, reason: String, message: String, evidence: [String: String] = [:],
        volumes: [String: [String: String]]? = nil
    ) {
        end(phase, at: time, outcome: .failed, reason: reason, message: message, evidence: evidence, volumes: volumes)
    }

    private mutating func end(
        _ phase: ExercisePhase, at time: Date, outcome: PhaseRecord.Outcome, reason: String, message: String, evidence: [String: String],
        volumes: [String: [String: String]]?
    ) {
        var record = phases[phase] ?? PhaseRecord(outcome: .running, startedAt: time, finishedAt: nil, reason: "", message: "", evidence: [:])
        record.outcome = outcome
        record.finishedAt = time
        record.reason = reason
        record.message = message
        record.evidence.merge(evidence) { $1 }
        if let volumes { record.volumes = (record.volumes ?? [:]).merging(volumes) { $0.merging($1) { $1 } } }
        phases[phase] = record
    }

    // MARK: - Encoding

    public func encoded() throws -> Data {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.prettyPrinted, .sortedKeys]
        encoder.dateEncodingStrategy = .iso8601
        return try encoder.encode(self)
    }

    public static func decode(_ data: Data) throws -> ExerciseJournal {
        let decoder = JSONDecoder()
        decoder.dateDecodingStrategy = .iso8601
        return try decoder.decode(ExerciseJournal.self, from: data)
    }
}

extension ExercisePhase: CodingKeyRepresentable {}

/// The conditions under which the exercise may destroy a cluster (DESIGN.md, "The exercise, as data").
public enum DestroyGate {
    /// Every reason destroy must not run now; empty means go.
    public static func problems(journal: ExerciseJournal, currentFingerprint: String?, operatorConfirmed: Bool) -> [String] {
        var problems: [String] = []
        if journal.phases[.backup]?.outcome != .completed || journal.evidence(.backup, "state") != "Completed" {
            problems.append("the backup did not complete")
        }
        if journal.phases[.verifyBackupInStore]?.outcome != .completed {
            problems.append("the backup was not read back from the store and verified block by block")
        }
        let recorded = ClusterIdentity.uid(journal.clusterFingerprint)
        if recorded == nil || recorded != ClusterIdentity.uid(currentFingerprint) {
            problems.append(
                "the cluster is not the one the exercise started on (fingerprint \(currentFingerprint ?? "unknown") vs \(journal.clusterFingerprint ?? "none recorded"))"
            )
        }
        if !operatorConfirmed { problems.append("the operator did not confirm (pass --yes or type the cluster name)") }
        return problems
    }
}

/// A cluster's identity is kube-system's uid: a rebuilt cluster gets a new one even at the same
/// address, and the same cluster keeps it whether reached by name or by IP.
public enum ClusterIdentity {
    /// The fingerprint recorded in the journal.
    public static func fingerprint(kubeSystemUID uid: String) -> String { "kube-system=\(uid)" }

    /// The uid inside a fingerprint (also those of older versions, `<server> kube-system=<uid>`).
    public static func uid(_ fingerprint: String?) -> String? {
        guard let fingerprint, let range = fingerprint.range(of: "kube-system=") else { return nil }
        let uid = fingerprint[range.upperBound...].trimmingCharacters(in: .whitespaces)
        return uid.isEmpty || uid == "?" ? nil : uid
    }
}

/// What wait-ready must prove before verify may count: the cluster answering is a new one, its
/// bootstrap's restore ran after the rebuild began, and it restored this run's backup. Without
/// it, a destroy that did nothing or a kubeconfig pointing at another cluster reads an untouched
/// volume and PASSes.
public enum RebuildProof {
    /// How far the cluster's clock may lag the workstation's when comparing the restore's start
    /// with the rebuild's.
    public static let clockSkew: TimeInterval = 60

    public struct Problems: Equatable {
        /// The cluster is not (provably) a new one: exit 4.
        public var notRebuilt: [String] = []
        /// By volume: the new cluster did not restore this run's backup of it; its data did not
        /// come back (exit 1).
        public var notRestored: [String: String] = [:]
        public init() {}
    }

    /// - Parameters:
    ///   - cluster: the cluster answering now.
    ///   - volumes: each volume's row of the orchestrator's status, by volume name.
    public static func check(journal: ExerciseJournal, cluster: RebuiltCluster, volumes: [String: RestoredWorkload]) -> Problems {
        var problems = Problems()
        let before = ClusterIdentity.uid(journal.clusterFingerprint)
        let after = ClusterIdentity.uid(cluster.clusterFingerprint)
        if after == nil {
            problems.notRebuilt.append("the cluster's kube-system uid could not be read")
        } else if after == before {
            problems.notRebuilt.append(
                "kube-system has the uid recorded at setup (\(before ?? "?")): the destroy did not replace the cluster, or the kubeconfig points at the old one"
            )
        }
        let rebuildStart = journal.phases[.rebuild]?.startedAt
        if let rebuildStart {
            if let started = ExerciseReport.parseDate(cluster.restoreStartedAt) {
                if started < rebuildStart.addingTimeInterval(-clockSkew) {
                    problems.notRebuilt.append(
                        "the bootstrap's restore began at \(cluster.restoreStartedAt), before the rebuild started (\(ISO8601DateFormatter().string(from: rebuildStart)))"
                    )
                }
            } else {
                problems.notRebuilt.append("no restore by the bootstrap was found (no start time)")
            }
        }
        for (volume, row) in volumes {
            let backup = journal.evidence(.backup, "backup", volume: volume) ?? ""
            let decision = row.restoreDecision
            let source = row.restoredFrom
            // A recurring job may have backed the volume up after the exercise did; such a backup
            // (recorded as the newest at destroy) holds the sentinel too, and verify checks the bytes.
            let newer = journal.destroyStarted?.evidence("newestBackup", volume: volume)
            if decision != "restore" {
                problems.notRestored[volume] =
                    "its decision for volume \(volume) was \(decision.isEmpty ? "missing" : "\"\(decision)\"") (\(row.restoreMessage.isEmpty ? "no status" : row.restoreMessage))"
            } else if source != backup && (newer == nil || source != newer) {
                problems.notRestored[volume] =
                    "it restored volume \(volume) from \(source.isEmpty ? "an unnamed backup" : source), not this run's backup \(backup)"
            }
        }
        return problems
    }
}
