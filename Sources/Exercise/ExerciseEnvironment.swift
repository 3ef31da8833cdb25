import DRCore
import Foundation

/// Everything the exercise does to the outside world, phase by phase. A real environment runs
/// the configured commands and talks to the cluster; the simulated one drives the built-in
/// simulated cluster. Each method is idempotent, so a resumed run may call it again. Methods
/// that take a workload are called for every workload of the config, concurrently. Budgets are
/// the runner's: a method sizes its own waits from `PhaseBudget.remaining()`, never from the
/// config.
public protocol ExerciseEnvironment: Sendable {
    /// Tools present, cluster reachable, Longhorn version known, the rebuild's needs checked.
    func preflight() async throws -> PreflightFacts
    /// Identifies the cluster now answering (e.g. API server URL + kube-system uid).
    func clusterFingerprint() async throws -> String
    /// Makes every workload's well-known volume exist, deploys the test workloads and waits
    /// until their pods run with the volumes mounted. Returns each workload's setup by volume name.
    func setUpWorkloads() async throws -> [String: WorkloadSetup]
    /// Writes the sentinel bytes into the workload's volume; returns what the pod read back.
    func writeSentinel(_ bytes: Data, into workload: ExerciseConfig.Workload) async throws -> Data
    /// Takes a snapshot and a backup of the workload's volume and waits for a final state.
    func backUp(_ workload: ExerciseConfig.Workload) async throws -> BackupEvidence
    /// Reads the backup straight from the store and verifies every block; returns what it
    /// found, with the SHA-256 of the sentinel file inside the backup.
    func verifyInStore(_ backup: BackupEvidence) async throws -> StoreCheckResult
    /// The workload volume's backups as the cluster lists them, just before destroy.
    func backupInventory(_ workload: ExerciseConfig.Workload) async throws -> BackupInventory
    /// Destroys the cluster.
    func destroy() async throws
    /// Builds the cluster again (the bootstrap runs the restore orchestrator).
    func rebuild() async throws
    /// Waits until the cluster, Longhorn and the bootstrap's restore are done. Returns the
    /// cluster's part of the proof the runner checks (`RebuildProof`).
    func waitReady() async throws -> RebuiltCluster
    /// After `waitReady`: the workload's row in the orchestrator's status, once the bootstrap
    /// has deployed the workload and its pod runs.
    func workloadReady(_ workload: ExerciseConfig.Workload) async throws -> RestoredWorkload
    /// Reads the sentinel back from the workload's volume.
    func readSentinel(from workload: ExerciseConfig.Workload) async throws -> Data
}

/// What the backup phase proved.
public struct BackupEvidence: Sendable, Equatable, Codable {
    public var backupName: String
    public var url: String
    public var state: String
    public var snapshotCreatedAt: String
    public var volume: String

    public init(backupName: String, url: String, state: String, snapshotCreatedAt: String, volume: String) {
        self.backupName = backupName
        self.url = url
        self.state = state
        self.snapshotCreatedAt = snapshotCreatedAt
        self.volume = volume
    }
}

extension BackupEvidence {
    /// The backup phase's record of a volume's backup, as journaled.
    /// - Throws: when the journal holds no backup of the volume (a hand-edited or foreign
    ///   journal): verifying "no backup" must fail, never check an empty name.
    public init(journal: ExerciseJournal, volume: String) throws {
        guard let name = journal.evidence(.backup, "backup", volume: volume), !name.isEmpty else {
            throw DRError(
                .infrastructure, subject: "the journal of run \(journal.runID)", detail: "holds no backup of volume \(volume)",
                hint: "run the exercise again from the start (without --resume)")
        }
        self.init(
            backupName: name, url: journal.evidence(.backup, "url", volume: volume) ?? "",
            state: journal.evidence(.backup, "state", volume: volume) ?? "",
            snapshotCreatedAt: journal.evidence(.backup, "snapshotCreatedAt", volume: volume) ?? "", volume: volume)
    }
}

/// Where the journal lives between runs (a 0600 file outside the cluster).
public protocol JournalStore: Sendable {
    func load() async throws -> ExerciseJournal?
    func save(_ journal: ExerciseJournal) async throws
}
