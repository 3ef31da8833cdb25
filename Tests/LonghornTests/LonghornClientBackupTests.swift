import Foundation
import KubeClient
import KubeModels
import Synchronization
import Testing

@testable import Longhorn

/// Snapshot and backup against the simulated API server, the test playing Longhorn.
@Suite(.serialized) struct LonghornClientBackupTests {
    @Test(arguments: LonghornCRDs.releases)
    func snapshotThenBackupToCompleted(release: String) async throws {
        try await LonghornSimulator.run(release: release) { sim in
            let longhorn = try await sim.longhorn()
            try await sim.configureBackupTarget()
            try await sim.setStatus(LonghornResources.backupTargets, "default", ["available": true, "lastSyncedAt": "2026-11-27T03:00:00Z"])

            let snapshot = try await longhorn.createSnapshot(volume: "dr-exercise-data", labels: ["lhdr": "drill"])
            #expect(snapshot.spec.createSnapshot == true)
            async let ready = longhorn.waitForSnapshot(snapshot.name, timeout: .seconds(120))
            try await sim.watchOpened(on: "snapshots")
            try await sim.setStatus(
                LonghornResources.snapshots, snapshot.name,
                [
                    "readyToUse": false,
                    "error": "volume dr-exercise-data engine is not running. Waiting for the volume to be attached",
                ])
            try await sim.setStatus(LonghornResources.snapshots, snapshot.name, ["readyToUse": true, "error": "", "creationTime": "2026-11-27T03:05:00Z"])
            #expect(try await ready.status?.readyToUse == true, "a transient status.error does not end the wait")

            let backup = try await longhorn.createBackup(snapshot: snapshot.name, volume: "dr-exercise-data")
            #expect(backup.name.wholeMatch(of: #/backup-[0-9a-f]{16}/#) != nil)
            #expect(backup.metadata.label("backup-volume") == "dr-exercise-data")
            #expect(backup.metadata.label("backup-target") == (sim.version.hasMultipleBackupTargets ? "default" : nil))
            #expect(backup.metadata.label("longhornvolume") == nil)
            #expect(backup.spec?.snapshotName == snapshot.name)

            let seen = Collector<String>()
            async let completed = longhorn.waitForBackup(backup.name, timeout: .seconds(120)) { b in
                seen.append("\(b.state):\(b.status?.progress ?? 0)")
            }
            try await sim.watchOpened(on: "backups")
            let statuses: [JSONValue] = [
                ["state": "InProgress", "progress": 40], ["progress": 90],
                ["state": "Completed", "progress": 100, "url": .string("s3://x?backup=\(backup.name)&volume=dr-exercise-data"), "volumeSize": "1073741824"],
            ]
            // Waits share one informer whose signals coalesce: each state is given time to be seen
            // (progress is a report of what is current, not a log of every update).
            for status in statuses {
                try await sim.setStatus(LonghornResources.backups, backup.name, status)
                let expected = "\(status["state"]?.stringValue ?? "InProgress"):\(status["progress"]?.intValue ?? 0)"
                let deadline = ContinuousClock.now + .seconds(120)
                while !seen.values.contains(expected) {
                    guard ContinuousClock.now < deadline else {
                        Issue.record("\(expected) was never reported: \(seen.values)")
                        break
                    }
                    try await Task.sleep(for: .milliseconds(50))
                }
            }
            let final = try await completed
            #expect(final.isCompleted)
            #expect(seen.values.contains("InProgress:40"), "progress is reported")
            try expectRecordedObjectsValid(sim)
            #expect(sim.recorder.created("snapshots").first?[path: ["spec", "createSnapshot"]] == true)
        }
    }

    @Test(arguments: ["Error", "Unknown", "Deleting"])
    func finalFailureStatesEndTheWait(state: String) async throws {
        try await LonghornSimulator.run(release: "v1.10.2") { sim in
            let longhorn = try await sim.longhorn()
            try await sim.configureBackupTarget()
            try await sim.setStatus(LonghornResources.backupTargets, "default", ["available": true])
            let backup = try await longhorn.createBackup(snapshot: "snap-1", volume: "dr-exercise-data")
            try await sim.setStatus(
                LonghornResources.backups, backup.name,
                [
                    "state": .string(state), "error": "failed to get backup target client: timeout",
                    "messages": ["ReplicaError": "replica tcp://10.0.0.5:10000 failed"],
                ])
            // A failure is reported as such (not waited into the timeout, which would be .timeout).
            let error = await expectLonghornError { _ = try await longhorn.waitForBackup(backup.name, timeout: .seconds(300)) }
            #expect(error?.code == .backupFailed)
            #expect(error?.detail.contains("ended \(state)") == true)
            #expect(error?.detail.contains("failed to get backup target client: timeout") == true, "Longhorn's own error text")
            #expect(error?.detail.contains("replica tcp://10.0.0.5:10000 failed") == true)
        }
    }

    @Test func aVanishedBackupOrSnapshotFails() async throws {
        try await LonghornSimulator.run(release: "v1.9.2") { sim in
            let longhorn = try await sim.longhorn()
            try await sim.configureBackupTarget()
            try await sim.setStatus(LonghornResources.backupTargets, "default", ["available": true])
            let backup = try await longhorn.createBackup(snapshot: "snap-1", volume: "dr-exercise-data")
            async let gone = expectLonghornError { _ = try await longhorn.waitForBackup(backup.name, timeout: .seconds(120)) }
            try await sim.watchOpened(on: "backups")
            try await sim.kube.delete(LonghornResources.backups, namespace: sim.namespace, name: backup.name)
            #expect(await gone?.code == .backupFailed)

            let snapshot = try await longhorn.createSnapshot(volume: "dr-exercise-data")
            async let vanished = expectLonghornError { _ = try await longhorn.waitForSnapshot(snapshot.name, timeout: .seconds(120)) }
            try await sim.watchOpened(on: "snapshots")
            try await sim.kube.delete(LonghornResources.snapshots, namespace: sim.namespace, name: snapshot.name)
            let error = await vanished
            #expect(error?.code == .snapshotFailed)
            #expect(error?.detail.contains("disappeared") == true)
        }
    }

    @Test func snapshotTimeoutCarriesLonghornsError() async throws {
        try await LonghornSimulator.run(release: "v1.12.1") { sim in
            let longhorn = try await sim.longhorn()
            let snapshot = try await longhorn.createSnapshot(volume: "dr-exercise-data")
            try await sim.setStatus(LonghornResources.snapshots, snapshot.name, ["readyToUse": false, "error": "cannot attach volume: no node available"])
            let error = await expectLonghornError { _ = try await longhorn.waitForSnapshot(snapshot.name, timeout: .milliseconds(400)) }
            #expect(error?.code == .timeout)
            #expect(error?.detail.contains("cannot attach volume: no node available") == true)
        }
    }

    /// Defect 12: v1.9+ refuses a Backup while the target is unavailable; the client says why first.
    @Test(arguments: ["v1.9.2", "v1.10.2", "v1.12.1"])
    func backupRefusedWhileTargetUnavailable(release: String) async throws {
        try await LonghornSimulator.run(release: release) { sim in
            let longhorn = try await sim.longhorn()
            try await sim.configureBackupTarget()
            try await sim.setStatus(
                LonghornResources.backupTargets, "default",
                [
                    "available": false,
                    "conditions": [["type": "Unavailable", "status": "True", "reason": "Unavailable", "message": "failed to list objects: AccessDenied"]],
                ])
            let error = await expectLonghornError { _ = try await longhorn.createBackup(snapshot: "snap-1", volume: "dr-exercise-data") }
            #expect(error?.code == .backupTargetUnavailable)
            #expect(error?.detail.contains("AccessDenied") == true)
            #expect(sim.recorder.created("backups").isEmpty, "nothing sent that the webhook would refuse")
        }
    }

    @Test func badNamesAndModesAreRefusedBeforeSending() async throws {
        try await LonghornSimulator.run(release: "v1.7.3") { sim in
            let longhorn = try await sim.longhorn()
            let bad = await expectLonghornError { _ = try await longhorn.createBackup(snapshot: "s", volume: "v", name: "Backup_1") }
            #expect(bad?.code == .invalidArgument)
            let mode = await expectLonghornError { _ = try await longhorn.createBackup(snapshot: "s", volume: "v", mode: "differential") }
            #expect(mode?.code == .invalidArgument)
            let full = try await longhorn.createBackup(snapshot: "s", volume: "v", mode: "full")
            #expect(full.spec?.backupMode == "full")
            #expect(full.metadata.labels == ["backup-volume": "v"], "no backup-target label before v1.8")
            try expectRecordedObjectsValid(sim)
        }
    }
}
