import Backupstore
import ClusterExercise
import DRCore
import Foundation

/// `longhorn-dr assure`: for every declared volume, the newest completed backup in the store, its
/// age against the volume's `maxAge`, and its blocks verified (SHA-512 of each decompressed block
/// against its name), incrementally through a ``VerifiedBlockLedger``. Nothing is written to the
/// store and nothing in the cluster is touched.
public struct AssuranceRun: Sendable {
    public struct Volume: Sendable, Equatable {
        public var name: String
        public var maxAge: Duration?

        public init(name: String, maxAge: Duration?) {
            self.name = name
            self.maxAge = maxAge
        }
    }

    public var volumes: [Volume]
    /// Blocks fetched and checked at once.
    public var parallelism: Int
    /// Every block is read again at least once in this many runs (1: every block every run).
    public var fullEvery: Int

    public init(volumes: [Volume], parallelism: Int = 8, fullEvery: Int = 7) {
        self.volumes = volumes
        self.parallelism = parallelism
        self.fullEvery = fullEvery
    }

    /// Checks every volume (one after the other: each verification already keeps `parallelism`
    /// blocks in flight) and records the verified blocks in `ledger`. Never throws: a volume
    /// that cannot be checked is a FAIL in the report, naming why.
    /// - Parameter cluster: with `--cross-check`, the cluster's view of the backups (or why it
    ///   could not be read), held against the store's newest backup of each volume.
    public func run(
        reader: BackupReader, store: String, ledger: inout VerifiedBlockLedger, now: Date, cluster: Result<ClusterBackupView, DRError>? = nil
    ) async -> AssuranceReport {
        let run = ledger.runs + 1
        var results: [AssuranceReport.VolumeResult] = []
        var verified = Set<String>()
        var listed = Set<String>()
        for volume in volumes {
            var result = AssuranceReport.VolumeResult(volume: volume.name, maxAge: volume.maxAge)
            defer { results.append(result) }
            let backup: BackupConfig
            do {
                backup = try await reader.latestCompletedBackup(volume: volume.name)
            } catch let error as BackupstoreError where error.code == .notFound && FailureMapping.awsCause(error) == nil {
                result.fail(.noBackup, "no completed backup in the store: \(error.detail)", status: .verificationFailed)
                Self.crossCheck(&result, cluster: cluster, storeNewest: nil, now: now)
                continue
            } catch {
                let failure = FailureMapping.drError(error)
                let damaged = (error as? BackupstoreError)?.code == .invalidConfig
                result.fail(damaged ? .damagedConfig : .store, failure.description, status: failure.status)
                continue
            }
            result.backup = backup.name
            result.backupCreatedAt = backup.createdTime
            Self.crossCheck(&result, cluster: cluster, storeNewest: backup, now: now)
            if let created = BackupReader.parseCreatedTime(backup.createdTime) {
                let age = Duration.milliseconds(Int64(now.timeIntervalSince(created) * 1000))
                result.age = age
                if let maxAge = volume.maxAge, age > maxAge {
                    result.fail(
                        .stale,
                        "its newest backup \(backup.name) is \(DurationText.format(age)) old, more than its maxAge of \(DurationText.format(maxAge)); check its recurring backup job",
                        status: .verificationFailed)
                }
            }
            let snapshot = ledger
            let fullEvery = fullEvery
            do {
                let checked = try await reader.verify(
                    volume: volume.name, backup: backup.name, parallelism: parallelism,
                    only: { snapshot.needsCheck($0, run: run, fullEvery: fullEvery) })
                result.blocksListed = checked.checksums.count
                result.blocksVerified = checked.blocksVerified
                result.blocksSkipped = checked.blocksSkipped
                result.bytesRead = checked.compressedBytes
                listed.formUnion(checked.checksums)
                // Only the checksums this run fetched are newly verified; the skipped keep their run.
                verified.formUnion(checked.checksums.filter { snapshot.needsCheck($0, run: run, fullEvery: fullEvery) })
            } catch {
                let failure = FailureMapping.drError(error)
                let reason: AssuranceReport.Reason =
                    switch (error as? BackupstoreError)?.code {
                    case .blockMissing?: .missingBlock
                    case .blockTruncated?: .truncatedBlock
                    case .blockCorrupt?, .blockChecksumMismatch?: .corruptBlock
                    case .invalidConfig?: .damagedConfig
                    default: failure.status == .verificationFailed ? .corruptBlock : .store
                    }
                result.fail(reason, failure.description, status: failure.status)
                // Its blocks are kept out of `listed`: the ledger forgets them, so the next run reads them all.
            }
        }
        ledger.record(run: run, verified: verified, listed: listed)
        return AssuranceReport(store: store, run: run, fullEvery: fullEvery, checkedAt: now, volumes: results)
    }

    static func crossCheck(_ result: inout AssuranceReport.VolumeResult, cluster: Result<ClusterBackupView, DRError>?, storeNewest: BackupConfig?, now: Date) {
        switch cluster {
        case nil: return
        case .failure(let error): result.fail(.cluster, "the cluster's backups could not be read: \(error)", status: error.status)
        case .success(let view):
            do {
                result.clusterBackup = try view.check(volume: result.volume, storeNewest: storeNewest, now: now)
            } catch {
                result.fail(error.reason, error.message, status: .verificationFailed)
            }
        }
    }
}
