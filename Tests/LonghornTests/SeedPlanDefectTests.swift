import Foundation
import KubeClient
import KubeModels
import Testing

@testable import Longhorn

/// One test per defect of the seed plan (longhorn-facts.md section 12) that shows at this
/// level: what the plan's step would do, and what this target does instead. Defects that need
/// a server are shown in the simulator suites named in each comment.
@Suite struct SeedPlanDefectTests {
    /// #1: there is no `lastBackupURL`; the URL comes from `lastBackupName` → Backup `status.url`.
    @Test func defect01_noLastBackupURL() throws {
        for crds in try LonghornCRDs.loadAll() {
            let status = try #require(crds.schema("backupvolumes")?[path: ["properties", "status", "properties"]]?.objectValue)
            #expect(status["lastBackupURL"] == nil, "\(crds.release)")
            #expect(status["lastBackupName"] != nil, "\(crds.release)")
        }
        let bv = Fixtures.backupVolume("dr-exercise-data-77a0e0e7", volume: "dr-exercise-data", lastBackup: "backup-0123456789abcdef")
        let lookup = try LonghornClient.decideBackup(
            volume: "dr-exercise-data", target: "default", selection: .latest,
            syncedAfter: Fixtures.time("2026-11-27T03:00:00Z"), backupTarget: Fixtures.target(), backupVolumes: [bv],
            backups: [Fixtures.backup("backup-0123456789abcdef")], namespace: Fixtures.namespace)
        guard case .found(let backup, _) = lookup else {
            Issue.record("expected found")
            return
        }
        let volume = try LonghornManifests.restoreVolume(
            name: "dr-exercise-data", namespace: Fixtures.namespace, backup: backup, version: Fixtures.version("v1.10.2"))
        #expect(volume.spec.fromBackup == backup.status?.url)
        #expect(volume.spec.fromBackup == Fixtures.url)
    }

    /// #2: v1.8+ BackupVolume names are `<vol>-<8hex>`; a lookup by name misses, ours does not.
    @Test func defect02_backupVolumeIsFoundByLabelNotName() throws {
        let suffixed = Fixtures.backupVolume("dr-exercise-data-77a0e0e7", volume: "dr-exercise-data")
        #expect(suffixed.name != "dr-exercise-data", "the plan's `get backupvolumes dr-exercise-data` is NotFound")
        let found = try LonghornClient.matchingBackupVolume(volume: "dr-exercise-data", target: "default", in: [suffixed], namespace: "longhorn-system")
        #expect(found?.name == "dr-exercise-data-77a0e0e7")
    }

    /// #3: an empty answer before the sync is "not synced", never "create fresh".
    @Test func defect03_emptyBeforeSyncIsNotNoBackup() throws {
        let unsynced = Fixtures.target(available: true, syncedAt: nil)
        let lookup = try LonghornClient.decideBackup(
            volume: "dr-exercise-data", target: "default", selection: .latest,
            syncedAfter: Fixtures.time("2026-11-27T03:00:00Z"), backupTarget: unsynced, backupVolumes: [], backups: [], namespace: Fixtures.namespace)
        guard case .notSynced = lookup else {
            Issue.record("an unsynced target must not yield \(lookup)")
            return
        }
    }

    /// #4 and #6: the restore Volume carries `frontend: blockdev`, `dataEngine: v1` and the quoted size.
    @Test(arguments: LonghornCRDs.releases)
    func defect04_06_restoreVolumeHasFrontendAndQuotedSize(release: String) throws {
        let version = Fixtures.version(release)
        let json = try LonghornManifests.restoreVolume(name: "dr-exercise-data", namespace: Fixtures.namespace, backup: Fixtures.backup(), version: version)
            .json
        #expect(json[path: ["spec", "frontend"]] == "blockdev")
        #expect(version.allowedFrontends(dataEngine: "v1").contains("blockdev"))
        #expect(json[path: ["spec", "dataEngine"]] == "v1")
        #expect(json[path: ["spec", "size"]] == .string("1073741824"))
        #expect(json[path: ["spec", "numberOfReplicas"]] == 3)
        #expect(json[path: ["spec", "accessMode"]] == "rwo")
    }

    /// #5: no restore Volume from a Backup that is not synced (the webhook would refuse it or size it 0).
    @Test func defect05_noRestoreFromAnUnsyncedBackup() {
        let version = Fixtures.version("v1.10.2")
        for backup in [Fixtures.backup(state: ""), Fixtures.backup(state: "InProgress"), Fixtures.backup(size: "")] {
            let error = #expect(throws: LonghornError.self) {
                try LonghornManifests.restoreVolume(name: "v", namespace: Fixtures.namespace, backup: backup, version: version)
            }
            #expect(error?.code == .invalidArgument)
        }
    }

    /// #7: `detached` before `restoreInitiated` and `attached` during the restore are not done.
    @Test func defect07_restorePredicate() {
        #expect(RestoreProgress(Fixtures.volume(state: "detached")).phase != .done, "detached right after creation")
        #expect(RestoreProgress(Fixtures.volume(state: "attached", initiated: true, required: true)).phase != .done, "attached while restoring")
        #expect(RestoreProgress(Fixtures.volume(state: "attached", initiated: true, required: false)).phase != .done, "still attached")
        #expect(RestoreProgress(Fixtures.volume(state: "detached", initiated: true, required: false)).phase == .done)
        #expect(RestoreProgress(Fixtures.volume(state: "detached", robustness: "faulted", initiated: true, required: false)).phase == .failed)
        // The timeout is the caller's, sized to the data: LonghornClientRestoreTests.restoreTimeoutSaysWhereItIs.
    }

    /// #8 and #9: a PV named after the volume, for the CSI driver, pre-bound to the declared PVC;
    /// the fresh branch creates the Volume (size, frontend) too.
    @Test func defect08_09_pvAndFreshVolume() throws {
        let pv = PersistentVolumeRequest(
            volumeName: "dr-exercise-data", capacityBytes: 1_073_741_824, storageClassName: "longhorn",
            claim: ClaimReference(namespace: "dr-exercise", name: "dr-exercise-data")
        ).manifest
        #expect(pv[path: ["metadata", "name"]] == "dr-exercise-data")
        #expect(pv[path: ["spec", "csi", "driver"]] == "driver.longhorn.io")
        #expect(pv[path: ["spec", "csi", "volumeHandle"]] == "dr-exercise-data")
        #expect(pv[path: ["spec", "storageClassName"]] == "longhorn")
        #expect(pv[path: ["spec", "claimRef", "name"]] == "dr-exercise-data")
        let fresh = try LonghornManifests.freshVolume(
            name: "dr-exercise-data", namespace: Fixtures.namespace, sizeBytes: 1_073_741_824,
            version: Fixtures.version("v1.12.1")
        ).json
        #expect(fresh[path: ["spec", "frontend"]] == "blockdev")
        #expect(fresh[path: ["spec", "size"]] == "1073741824")
        #expect(fresh[path: ["spec", "fromBackup"]] == nil)
    }

    /// #10: the Snapshot CR asks Longhorn to take the snapshot.
    @Test func defect10_createSnapshotTrue() {
        let json = LonghornManifests.snapshot(name: "snap-1", namespace: Fixtures.namespace, volume: "dr-exercise-data").json
        #expect(json[path: ["spec", "createSnapshot"]] == true)
        #expect(json[path: ["spec", "volume"]] == "dr-exercise-data")
    }

    /// #11: Backup labels `backup-volume` (always) and `backup-target` (v1.8+), never `longhornvolume`; valid names.
    @Test(arguments: LonghornCRDs.releases)
    func defect11_backupLabels(release: String) throws {
        let version = Fixtures.version(release)
        let backup = try LonghornManifests.backup(
            name: Backup.generateName(), namespace: Fixtures.namespace, snapshot: "snap-1",
            volume: "dr-exercise-data", version: version)
        var expected = ["backup-volume": "dr-exercise-data"]
        if version.atLeast(1, 8) { expected["backup-target"] = "default" }
        #expect(backup.metadata.labels == expected)
        #expect(backup.json[path: ["metadata", "labels", "longhornvolume"]] == nil)
        #expect(Backup.isValidName(backup.name))
        #expect(throws: LonghornError.self) {
            try LonghornManifests.backup(name: "DR_backup", namespace: Fixtures.namespace, snapshot: "s", volume: "v", version: version)
        }
    }

    /// #12 is shown in LonghornClientBackupTests.backupRefusedWhileTargetUnavailable (v1.9+).
    @Test func defect12_targetMustBeAvailableFrom19() {
        #expect(!Fixtures.version("v1.8.2").backupRequiresAvailableTarget)
        #expect(Fixtures.version("v1.9.0").backupRequiresAvailableTarget)
    }

    /// #13: `Unknown` and `Deleting` are final failures like `Error` (server side:
    /// LonghornClientBackupTests.finalFailureStatesEndTheWait).
    @Test func defect13_unknownAndDeletingAreTerminal() {
        for state in ["Error", "Unknown", "Deleting"] { #expect(Fixtures.backup(state: state).hasFailed, "\(state)") }
        for state in ["", "Pending", "InProgress", "Completed"] { #expect(!Fixtures.backup(state: state).hasFailed, "\(state)") }
    }

    /// #14: readiness is the manager and CSI workloads, not the driver deployer (server side:
    /// LonghornClientClusterTests.workloadsMustAllRollOut).
    @Test func defect14_readinessIsNotTheDriverDeployer() {
        let names = Workload.requiredForRestore.map(\.name)
        #expect(names.contains("longhorn-manager"))
        #expect(names.contains("longhorn-csi-plugin"))
        #expect(!names.contains("longhorn-driver-deployer"))
    }

    /// #15: fully qualified resources, never bare `backups`.
    @Test func defect15_fullyQualifiedResources() {
        let all = [
            LonghornResources.volumes, LonghornResources.snapshots, LonghornResources.backups, LonghornResources.backupVolumes,
            LonghornResources.backupTargets, LonghornResources.settings, LonghornResources.recurringJobs,
        ]
        for resource in all {
            #expect(resource.group == "longhorn.io")
            #expect(resource.version == "v1beta2")
            #expect(resource.namespaced)
            #expect(resource.description.hasSuffix(".longhorn.io"))
        }
        #expect(LonghornResources.backups.path(namespace: "longhorn-system", name: "b") == "/apis/longhorn.io/v1beta2/namespaces/longhorn-system/backups/b")
    }

    /// #16: this module offers no way to delete a Backup or BackupVolume, and never calls delete.
    @Test func defect16_neverDeletesBackups() throws {
        let sources = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Sources/Longhorn")
        let files = try FileManager.default.contentsOfDirectory(atPath: sources.path).filter { $0.hasSuffix(".swift") }
        #expect(files.count > 5)
        for file in files {
            let text = try String(contentsOf: sources.appendingPathComponent(file), encoding: .utf8)
            #expect(!text.contains(".delete("), "\(file) calls delete")
            #expect(!text.contains("func delete"), "\(file) offers delete")
        }
    }

    /// #17: the backup target lives in Settings up to v1.7 and in the BackupTarget CR from v1.8
    /// (server side: LonghornClientRestoreTests reads the URL from each).
    @Test func defect17_backupTargetSourceByVersion() {
        #expect(Fixtures.version("v1.7.3").backupTargetSource == .settings)
        #expect(Fixtures.version("v1.8.0").backupTargetSource == .backupTargetResource)
        #expect(Fixtures.version("v1.7.3").expectedBackupVolumeName(volume: "v") == "v")
        #expect(Setting.Name.backupTarget == "backup-target")
    }
}
