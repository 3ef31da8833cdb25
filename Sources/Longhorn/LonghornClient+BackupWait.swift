import Foundation
import KubeClient
import KubeModels

extension LonghornClient {
    /// Waits until `findBackup` can decide: `.found` or `.confirmedNone`. Re-evaluates on every
    /// change to BackupTargets, BackupVolumes and Backups (watched, not polled), and waits for the
    /// BackupVolume's own sync, which the target's sync requests (never patched from here).
    /// - Throws: `.timeout` with the last "not synced" reason — never a guessed "no backup";
    ///   and whatever `findBackup` throws (missing pinned backup, duplicates).
    public func waitForBackupDecision(
        volume: String, target: String = LonghornResources.defaultBackupTarget, selection: BackupSelection = .latest,
        syncedAfter: Date, timeout: Duration, progress: @escaping @Sendable (NotSyncedReason) -> Void = { _ in }
    ) async throws(LonghornError) -> BackupLookup {
        enum Outcome: Sendable {
            case decided(BackupLookup)
            case timedOut
            case watchEnded
        }
        let last = LastReason()
        let (changes, signal) = AsyncStream.makeStream(of: Void.self, bufferingPolicy: .bufferingNewest(1))
        signal.yield()
        let watched = [LonghornResources.backupTargets, LonghornResources.backupVolumes, LonghornResources.backups]
        do {
            return try await withThrowingTaskGroup(of: Outcome.self) { group in
                for resource in watched {
                    group.addTask {
                        for try await _ in self.kube.watch(resource, namespace: self.namespace) { signal.yield() }
                        return .watchEnded
                    }
                }
                group.addTask {
                    try await Task.sleep(for: timeout)
                    return .timedOut
                }
                group.addTask {
                    // No sync requests of its own: Longhorn's target sync already asks every
                    // BackupVolume to sync, and the restore Job is not granted that patch.
                    for await _ in changes {
                        let lookup = try await self.findBackup(volume: volume, target: target, selection: selection, syncedAfter: syncedAfter)
                        guard case .notSynced(let reason) = lookup else { return .decided(lookup) }
                        if await last.set(reason) { progress(reason) }
                    }
                    return .watchEnded
                }
                defer { group.cancelAll() }
                while let outcome = try await group.next() {
                    switch outcome {
                    case .decided(let lookup): return lookup
                    case .timedOut:
                        let reason = await last.reason.map { String(describing: $0) } ?? "no answer from Longhorn yet"
                        throw LonghornError(.timeout, subject: "backup of volume \(volume) (\(selection))",
                            detail: "not decidable after \(Self.describe(timeout)): \(reason)",
                            hint: "the backup target, the volume's BackupVolume and its Backups must sync from the store first; check `kubectl -n \(namespace) get backuptargets.longhorn.io,backupvolumes.longhorn.io` and the store; raise the timeout for slow stores")
                    case .watchEnded: continue
                    }
                }
                throw LonghornError(.timeout, subject: "backup of volume \(volume)", detail: "the watches ended before a decision")
            }
        } catch let error as LonghornError {
            throw error
        } catch let error as KubeClientError {
            throw LonghornError.kube(error, subject: "backup of volume \(volume)")
        } catch {
            throw LonghornError(.kubernetes, subject: "backup of volume \(volume)", detail: "\(error)")
        }
    }
}

/// The latest "not synced" reason a wait saw, for progress and the timeout message.
actor LastReason {
    private(set) var reason: NotSyncedReason?

    /// Records `reason`; true when it differs from the previous one.
    func set(_ new: NotSyncedReason) -> Bool {
        defer { reason = new }
        return reason != new
    }
}
