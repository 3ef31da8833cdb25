import Foundation
import KubeClient
import KubeModels
import Synchronization
import Testing

@testable import Longhorn

/// Version detection, readiness and PVs against the simulated API server.
@Suite(.serialized) struct LonghornClientClusterTests {
    @Test func versionFromTheSettingOrTheManagerImage() async throws {
        try await LonghornSimulator.run(release: "v1.10.2", setVersion: false) { sim in
            let missing = await expectLonghornError { _ = try await LonghornClient.detectVersion(kube: sim.kube) }
            #expect(missing?.code == .unsupportedVersion)
            #expect(missing?.hint?.contains("longhorn-system") == true)
            try await sim.rollOut(Workload(resource: .daemonSets, name: "longhorn-manager"))
            #expect(try await LonghornClient.detectVersion(kube: sim.kube) == LonghornVersion(major: 1, minor: 10, patch: 2), "from the image tag")
            try await sim.create(LonghornResources.settings, ["metadata": ["name": "current-longhorn-version"], "value": "v1.10.3"])
            #expect(try await LonghornClient.detectVersion(kube: sim.kube) == LonghornVersion(major: 1, minor: 10, patch: 3), "the Setting wins")
        }
        try await LonghornSimulator.run(release: "v1.7.3", setVersion: false) { sim in
            try await sim.create(LonghornResources.settings, ["metadata": ["name": "current-longhorn-version"], "value": "v1.5.5"])
            let old = await expectLonghornError { _ = try await sim.longhorn() }
            #expect(old?.code == .unsupportedVersion)
            #expect(old?.detail.contains("v1.5.5") == true)
        }
    }

    @Test func workloadsMustAllRollOut() async throws {
        try await LonghornSimulator.run(release: "v1.9.2") { sim in
            let longhorn = try await sim.longhorn()
            try await sim.rollOutWorkloads(skipping: ["csi-snapshotter"])
            // The driver deployer makes the CSI workloads late: a missing one is waited for.
            let told = Collector<String>()
            async let ready: Void = longhorn.waitForWorkloads(timeout: .seconds(120)) { line in told.append(line) }
            try await sim.watchOpened(on: "deployments")
            try await sim.rollOut(Workload(resource: .deployments, name: "csi-snapshotter"))
            try await ready
            #expect(told.values.last == "waiting for deploy/csi-snapshotter to roll out")

            try await sim.setStatus(.daemonSets, "longhorn-csi-plugin", ["numberReady": 2])
            let error = await expectLonghornError { try await longhorn.waitForWorkloads(timeout: .milliseconds(400)) }
            #expect(error?.code == .timeout)
            #expect(error?.subject == "daemonsets.apps longhorn-system/longhorn-csi-plugin")
            #expect(error?.detail.contains("2/3 ready") == true)
            #expect(error?.hint?.contains("rollout status ds/longhorn-csi-plugin") == true)
        }
    }

    @Test(arguments: ["v1.7.3", "v1.12.1"])
    func backupTargetWaitCarriesTheUnavailableMessage(release: String) async throws {
        try await LonghornSimulator.run(release: release) { sim in
            let longhorn = try await sim.longhorn()
            let absent = await expectLonghornError { try await longhorn.requestBackupTargetSync() }
            #expect(absent?.code == .backupTargetUnavailable)
            try await sim.configureBackupTarget()
            let requested = try await longhorn.requestBackupTargetSync()
            let target = try #require(try await longhorn.get(BackupTarget.self, "default"))
            #expect(target.spec?.syncRequestedAt == LonghornTime.format(requested))
            #expect(target.spec?.backupTargetURL == "s3://dr-bucket@us-east-1/longhorn", "the merge patch kept the rest of spec")
            try await sim.setStatus(
                LonghornResources.backupTargets, "default",
                [
                    "available": false,
                    "conditions": [
                        ["type": "Unavailable", "status": "True", "reason": "Unavailable", "message": "failed to init backup target: no credentials"]
                    ],
                ])
            let error = await expectLonghornError { _ = try await longhorn.waitForBackupTarget(syncedAfter: requested, timeout: .milliseconds(400)) }
            #expect(error?.code == .backupTargetUnavailable)
            #expect(error?.detail.contains("failed to init backup target: no credentials") == true)
            #expect(error?.hint?.contains(release == "v1.7.3" ? "settings.longhorn.io backup-target" : "backuptargets.longhorn.io default") == true)
            // Available but synced before the request is not enough either.
            try await sim.setStatus(LonghornResources.backupTargets, "default", ["available": true, "conditions": [], "lastSyncedAt": "2026-01-01T00:00:00Z"])
            let stale = await expectLonghornError { _ = try await longhorn.waitForBackupTarget(syncedAfter: requested, timeout: .milliseconds(400)) }
            #expect(stale?.detail.contains("last synced 2026-01-01T00:00:00Z") == true)
            try expectRecordedObjectsValid(sim)
        }
    }

    @Test func persistentVolumeClaimRefs() async throws {
        try await LonghornSimulator.run(release: "v1.10.2") { sim in
            let longhorn = try await sim.longhorn()
            let claim = ClaimReference(namespace: "dr-exercise", name: "dr-exercise-data")
            let request = PersistentVolumeRequest(volumeName: "dr-exercise-data", capacityBytes: 1_073_741_824, storageClassName: "longhorn", claim: claim)
            // Carried over from an earlier cluster: reserved for a claim uid that no longer exists.
            var stale = request.manifest
            stale[path: ["spec", "claimRef", "uid"]] = "0000-old-claim"
            stale[path: ["spec", "claimRef", "resourceVersion"]] = "12"
            try await sim.kube.create(.persistentVolumes, object: stale)
            #expect(try await longhorn.ensurePersistentVolume(request) == .clearedStaleClaim(uid: "0000-old-claim"))
            let cleared = try await sim.kube.get(.persistentVolumes, name: "dr-exercise-data")
            #expect(cleared[path: ["spec", "claimRef"]] == request.claimRef)

            // Bound to the live claim: left alone.
            try await sim.kube.create(.namespaces, object: ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "dr-exercise"]])
            let pvc = try await sim.kube.create(
                .persistentVolumeClaims, namespace: "dr-exercise",
                object: [
                    "apiVersion": "v1", "kind": "PersistentVolumeClaim",
                    "metadata": ["name": "dr-exercise-data", "namespace": "dr-exercise"],
                    "spec": [
                        "volumeName": "dr-exercise-data", "storageClassName": "longhorn", "accessModes": ["ReadWriteOnce"],
                        "resources": ["requests": ["storage": "1Gi"]],
                    ],
                ])
            let uid = pvc[path: ["metadata", "uid"]] ?? .null
            try await sim.kube.patch(.persistentVolumes, name: "dr-exercise-data", type: .merge, patch: ["spec": ["claimRef": ["uid": uid]]])
            #expect(try await longhorn.ensurePersistentVolume(request) == .unchanged)

            // Reserved for someone else: an error naming that claim.
            var elsewhere = request
            elsewhere.volumeName = "shared"
            var other = elsewhere.manifest
            other[path: ["spec", "claimRef", "name"]] = "someone-else"
            try await sim.kube.create(.persistentVolumes, object: other)
            let error = await expectLonghornError { _ = try await longhorn.ensurePersistentVolume(elsewhere) }
            #expect(error?.code == .conflict)
            #expect(error?.detail.contains("dr-exercise/someone-else") == true)

            // No claimRef yet: reserved for the declared claim.
            var open = elsewhere
            open.volumeName = "open"
            var unreserved = open.manifest
            unreserved[path: ["spec", "claimRef"]] = nil
            try await sim.kube.create(.persistentVolumes, object: unreserved)
            #expect(try await longhorn.ensurePersistentVolume(open) == .reserved)

            // A PV of that name for another driver is not ours to touch.
            var foreign = elsewhere
            foreign.volumeName = "foreign"
            var nfs = foreign.manifest
            nfs[path: ["spec", "csi", "driver"]] = "nfs.csi.k8s.io"
            try await sim.kube.create(.persistentVolumes, object: nfs)
            #expect(await expectLonghornError { _ = try await longhorn.ensurePersistentVolume(foreign) }?.code == .conflict)
        }
    }
}
