import Assurance
import Backupstore
import DRCore
import Foundation
import Longhorn
import Testing

/// `assure --cross-check`: the store's newest backup of each volume held against what the
/// cluster's Longhorn would restore. Each way they can differ is its own FAIL; agreeing passes.
@Suite struct ClusterCrossCheckTests {
    typealias Fixture = AssuranceRunTests.Fixture
    static let now = AssuranceRunTests.now
    static let store = "s3://bucket@us-east-1/dr/"

    static func stamp(_ secondsAgo: Int) -> String { LonghornTime.format(now.addingTimeInterval(-Double(secondsAgo))) }

    /// A v1.8+ cluster's objects: target `default` synced `syncedAgo` seconds ago, one
    /// BackupVolume per volume of `backups` (its newest named as lastBackupName), Completed
    /// Backup CRs `(volume, name, age in seconds)`.
    static func view(
        syncedAgo: Int = 60, available: Bool = true, pollInterval: String = "5m0s", backups: [(String, String, Int)]
    ) -> ClusterBackupView {
        let target = BackupTarget(
            metadata: ResourceMetadata(name: "default", namespace: "longhorn-system"),
            spec: .init(backupTargetURL: store, pollInterval: pollInterval),
            status: .init(available: available, lastSyncedAt: stamp(syncedAgo)))
        let volumes = Dictionary(grouping: backups, by: \.0).map { volume, own in
            BackupVolume(
                metadata: ResourceMetadata(name: "\(volume)-bv", namespace: "longhorn-system", labels: ["backup-volume": volume, "backup-target": "default"]),
                spec: .init(volumeName: volume, backupTargetName: "default"),
                status: .init(lastBackupName: own.min { $0.2 < $1.2 }?.1, lastSyncedAt: stamp(syncedAgo)))
        }
        let crs = backups.map { volume, name, age in
            Backup(
                metadata: ResourceMetadata(name: name, namespace: "longhorn-system", labels: ["backup-volume": volume]),
                status: .init(
                    state: "Completed", url: "\(store)?backup=\(name)&volume=\(volume)", snapshotCreatedAt: stamp(age), backupCreatedAt: stamp(age),
                    volumeSize: "262144", volumeName: volume, backupTargetName: "default"))
        }
        return ClusterBackupView(
            target: "default", namespace: "longhorn-system", backupTarget: target, backupVolumes: volumes, backups: crs, requireBackupTargetName: true)
    }

    static func run(_ fixture: Fixture, _ volumes: [String], cluster: Result<ClusterBackupView, DRError>) async -> AssuranceReport {
        var ledger = VerifiedBlockLedger(store: store)
        return await AssuranceRun(volumes: volumes.map { AssuranceRun.Volume(name: $0, maxAge: nil) }, parallelism: 2).run(
            reader: fixture.reader, store: store, ledger: &ledger, now: now, cluster: cluster)
    }

    @Test func aClusterThatWouldRestoreTheStoresNewestBackupAgrees() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        try await fixture.backup("photos", name: "b1", blocks: 2, seed: 1, age: .seconds(7200))
        try await fixture.backup("photos", name: "b2", blocks: 2, seed: 2, age: .seconds(3600))
        let report = await Self.run(fixture, ["photos"], cluster: .success(Self.view(backups: [("photos", "b1", 7200), ("photos", "b2", 3600)])))
        #expect(report.passed, "\(report.text())")
        #expect(report.volumes[0].clusterBackup == "b2")
        #expect(report.text().contains("the cluster would restore b2"), "\(report.text())")
        #expect(report.json().contains("\"clusterBackup\" : \"b2\""), "\(report.json())")
    }

    @Test func aTargetThatHasNotSyncedForLongFailsNamingItsLastSync() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        try await fixture.backup("photos", name: "b1", blocks: 2, seed: 1)
        // Polled every 5m: a listing 3 hours old means the polling stopped or fails.
        let report = await Self.run(fixture, ["photos"], cluster: .success(Self.view(syncedAgo: 3 * 3600, backups: [("photos", "b1", 3600)])))
        #expect(report.volumes[0].reasons == [.notSynced])
        let message = report.volumes[0].messages.joined()
        #expect(message.contains("no listing within 15m, pollInterval 5m0s"), "\(message)")
        #expect(message.contains("BackupTarget default last synced \(Self.stamp(3 * 3600))"), "\(message)")
        #expect(report.exitStatus == .verificationFailed)
        #expect(report.volumes[0].blocksVerified == 2, "the store's backup is still verified")

        let unavailable = await Self.run(fixture, ["photos"], cluster: .success(Self.view(available: false, backups: [("photos", "b1", 3600)])))
        #expect(unavailable.volumes[0].reasons == [.notSynced])
        #expect(unavailable.volumes[0].messages.joined().contains("BackupTarget default is not available"), "\(unavailable.volumes[0].messages)")

        let manual = await Self.run(
            fixture, ["photos"], cluster: .success(Self.view(syncedAgo: 86400, pollInterval: "0s", backups: [("photos", "b1", 3600)])))
        #expect(
            manual.volumes[0].messages.joined().contains("its pollInterval is 0: Longhorn lists the store only when asked"), "\(manual.volumes[0].messages)")
    }

    @Test func aClusterBehindTheStoreFailsAsNotSynced() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        try await fixture.backup("photos", name: "b1", blocks: 2, seed: 1, age: .seconds(7200))
        try await fixture.backup("photos", name: "b2", blocks: 2, seed: 2, age: .seconds(600))
        // The cluster's objects were synced recently but know only b1.
        let report = await Self.run(fixture, ["photos"], cluster: .success(Self.view(backups: [("photos", "b1", 7200)])))
        #expect(report.volumes[0].reasons == [.notSynced])
        #expect(report.volumes[0].messages.joined().contains("the cluster would restore b1, older than the store's newest b2"), "\(report.volumes[0].messages)")
    }

    @Test func aClusterThatListsNoBackupWhereTheStoreHoldsOneWouldStartEmpty() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        try await fixture.backup("photos", name: "b1", blocks: 2, seed: 1)
        try await fixture.backup("pgdata", name: "p1", blocks: 2, seed: 2)
        // Synced, but without photos' BackupVolume: the target points at another store or folder.
        let report = await Self.run(fixture, ["photos", "pgdata"], cluster: .success(Self.view(backups: [("pgdata", "p1", 3600)])))
        #expect(report.volumes.map(\.reasons) == [[.clusterMismatch], []])
        #expect(report.volumes[0].messages.joined().contains("a restore now would start an empty volume"), "\(report.volumes[0].messages)")
    }

    @Test func aBackupTheClusterListsButTheStoreLacksIsAMismatch() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        try await fixture.backup("photos", name: "b1", blocks: 2, seed: 1, age: .seconds(7200))
        let newer = await Self.run(fixture, ["photos"], cluster: .success(Self.view(backups: [("photos", "b1", 7200), ("photos", "b9", 60)])))
        #expect(newer.volumes[0].reasons == [.clusterMismatch])
        #expect(newer.volumes[0].messages.joined().contains("b9, newer than the store's newest b1"), "\(newer.volumes[0].messages)")

        // A volume with no backup in the store at all, but one in the cluster: no-backup and the mismatch.
        let none = await Self.run(fixture, ["music"], cluster: .success(Self.view(backups: [("music", "m1", 60)])))
        #expect(none.volumes[0].reasons == [.noBackup, .clusterMismatch])
    }

    @Test func aClusterThatCannotBeReadFailsEveryVolumeWithItsCause() async throws {
        let fixture = try Fixture()
        defer { fixture.remove() }
        try await fixture.backup("photos", name: "b1", blocks: 2, seed: 1)
        let error = DRError(.infrastructure, subject: "cluster https://10.0.0.1:6443", detail: "connection refused", hint: "check the kubeconfig")
        let report = await Self.run(fixture, ["photos"], cluster: .failure(error))
        #expect(report.volumes[0].reasons == [.cluster])
        #expect(report.volumes[0].messages.joined().contains("the cluster's backups could not be read: cluster https://10.0.0.1:6443"))
        #expect(report.exitStatus == .infrastructure)
        #expect(report.volumes[0].blocksVerified == 2)
    }
}
