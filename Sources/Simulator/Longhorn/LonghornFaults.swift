/// Switches that make the simulated Longhorn fail the way a real one can, for tests that must see FAIL.
public actor LonghornFaults {
    /// Backups end in state Error with this message.
    public var backupError: String?
    /// Snapshots never become readyToUse.
    public var snapshotNeverReady = false
    /// Restores start and never finish.
    public var restoreStalls = false
    /// Restores end with the volume faulted (condition Restore, reason RestoreFailure).
    public var restoreFaults = false
    /// The backup store cannot be reached: targets become unavailable.
    public var storeUnreachable = false
    /// Snapshots capture the volume as it was before the latest writes reached it (an empty
    /// filesystem here): the backup completes and verifies, yet lacks the data just written.
    public var staleSnapshots = false
    /// A completed backup's first block is damaged in the store right after the upload (one
    /// byte flipped), as bit rot or a bad upload would: the backup says Completed, the store
    /// check must say otherwise.
    public var corruptUploadedBlock = false
    /// A restore completes, but one byte of the volume it wrote differs from the backup (a bad
    /// replica disk): only reading the restored volume back can tell.
    public var corruptRestoredData = false

    public init() {}

    /// The faults by the names the ConfigMap `longhorn-dr-sim-faults` of `sim serve` uses.
    public static let names = [
        "backup-error", "snapshot-never-ready", "restore-stalls", "restore-fault", "store-unreachable", "stale-snapshots",
        "corrupt-uploaded-block", "corrupt-restored-data",
    ]

    /// Sets exactly the named faults (a backup error with a fixed message); returns unknown names.
    @discardableResult
    public func set(named names: Set<String>) -> [String] {
        backupError = names.contains("backup-error") ? "simulated fault: replica failed to upload" : nil
        snapshotNeverReady = names.contains("snapshot-never-ready")
        restoreStalls = names.contains("restore-stalls")
        restoreFaults = names.contains("restore-fault")
        storeUnreachable = names.contains("store-unreachable")
        staleSnapshots = names.contains("stale-snapshots")
        corruptUploadedBlock = names.contains("corrupt-uploaded-block")
        corruptRestoredData = names.contains("corrupt-restored-data")
        return names.subtracting(Self.names).sorted()
    }

    public func set(backupError: String?) { self.backupError = backupError }
    public func set(snapshotNeverReady: Bool) { self.snapshotNeverReady = snapshotNeverReady }
    public func set(restoreStalls: Bool) { self.restoreStalls = restoreStalls }
    public func set(restoreFaults: Bool) { self.restoreFaults = restoreFaults }
    public func set(storeUnreachable: Bool) { self.storeUnreachable = storeUnreachable }
    public func set(staleSnapshots: Bool) { self.staleSnapshots = staleSnapshots }
    public func set(corruptUploadedBlock: Bool) { self.corruptUploadedBlock = corruptUploadedBlock }
    public func set(corruptRestoredData: Bool) { self.corruptRestoredData = corruptRestoredData }
}
