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
        /// What the phase proved, e.g. `backup: backup-3f2a…`, `sentinelSHA256: …`.
        public var evidence: [String: String]

        public var duration: Duration? {
            finishedAt.map { .milliseconds(Int64(($0.timeIntervalSince(startedAt) * 1000).rounded())) }
        }
    }

    public var runID: String
    public var cluster: String
    /// Identifies the cluster the run started on (API server URL and kube-system uid); destroy
    /// refuses to run against anything else.
    public var clusterFingerprint: String?
    public var startedAt: Date
    public var phases: [ExercisePhase: PhaseRecord]

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

    public mutating func begin(_ phase: ExercisePhase, at time: Date) {
        phases[phase] = PhaseRecord(outcome: .running, startedAt: time, finishedAt: nil, reason: "running", message: "", evidence: [:])
    }

    public mutating func complete(_ phase: ExercisePhase, at time: Date, message: String, evidence: [String: String] = [:]) {
        var record = phases[phase] ?? PhaseRecord(outcome: .running, startedAt: time, finishedAt: nil, reason: "", message: "", evidence: [:])
        record.outcome = .completed
        record.finishedAt = time
        record.reason = "ok"
        record.message = message
        record.evidence.merge(evidence) { $1 }
        phases[phase] = record
    }

    public mutating func fail(_ phase: ExercisePhase, at time: Date, reason: String, message: String, evidence: [String: String] = [:]) {
        var record = phases[phase] ?? PhaseRecord(outcome: .running, startedAt: time, finishedAt: nil, reason: "", message: "", evidence: [:])
        record.outcome = .failed
        record.finishedAt = time
        record.reason = reason
        record.message = message
        record.evidence.merge(evidence) { $1 }
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
        if journal.clusterFingerprint == nil || journal.clusterFingerprint != currentFingerprint {
            problems.append("the cluster is not the one the exercise started on (fingerprint \(currentFingerprint ?? "unknown") vs \(journal.clusterFingerprint ?? "none recorded"))")
        }
        if !operatorConfirmed { problems.append("the operator did not confirm (pass --yes or type the cluster name)") }
        return problems
    }
}
