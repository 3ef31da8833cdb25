import Foundation
import KubeModels
import Testing

@testable import Simulator

func pvObject(
    _ name: String, size: String, modes: [String] = ["ReadWriteOnce"], className: String = "manual", policy: String = "Retain", claimRef: JSONValue? = nil
) -> JSONValue {
    var pv: JSONValue = [
        "metadata": ["name": .string(name)],
        "spec": [
            "capacity": ["storage": .string(size)], "accessModes": .array(modes.map { .string($0) }), "storageClassName": .string(className),
            "persistentVolumeReclaimPolicy": .string(policy), "csi": ["driver": "example.com/static", "volumeHandle": .string(name)],
        ],
    ]
    if let claimRef { pv[path: ["spec", "claimRef"]] = claimRef }
    return pv
}

func pvcObject(_ name: String, size: String = "1Gi", modes: [String] = ["ReadWriteOnce"], className: String? = "manual", volumeName: String? = nil) -> JSONValue
{
    var claim: JSONValue = [
        "metadata": ["name": .string(name), "namespace": "default"],
        "spec": [
            "accessModes": .array(modes.map { .string($0) }), "resources": ["requests": ["storage": .string(size)]],
        ],
    ]
    if let className { claim[path: ["spec", "storageClassName"]] = .string(className) }
    if let volumeName { claim[path: ["spec", "volumeName"]] = .string(volumeName) }
    return claim
}

/// The PV binder, the provisioner stand-in and the storage protection finalizers (section 5).
@Suite struct PersistentVolumeBinderTests {
    @Test func staticVolumeBindsWithBookkeeping() async throws {
        try await SimTestCluster.run { sim in
            try await sim.store.create(try await sim.type("", "persistentvolumes"), namespace: nil, object: pvObject("pv-5", size: "5Gi"))
            try await sim.store.create(try await sim.type("", "persistentvolumeclaims"), namespace: "default", object: pvcObject("c"))
            let claim = try #require(try await sim.waitFor("", "persistentvolumeclaims", name: "c", "Bound", phase("Bound")))
            #expect(claim[path: ["spec", "volumeName"]] == "pv-5")
            #expect(claim[path: ["status", "capacity", "storage"]] == "5Gi")
            #expect(claim[path: ["metadata", "annotations", "pv.kubernetes.io/bind-completed"]] == "yes")
            #expect(claim[path: ["metadata", "annotations", "pv.kubernetes.io/bound-by-controller"]] == "yes")
            #expect(claim[path: ["metadata", "finalizers"]] == ["kubernetes.io/pvc-protection"])
            let pv = try #require(try await sim.waitFor("", "persistentvolumes", namespace: nil, name: "pv-5", "Bound", phase("Bound")))
            #expect(pv[path: ["spec", "claimRef", "uid"]] == claim[path: ["metadata", "uid"]])
        }
    }

    @Test func smallestFittingVolumeWins() async throws {
        try await SimTestCluster.run { sim in
            let pvs = try await sim.type("", "persistentvolumes")
            try await sim.store.create(pvs, namespace: nil, object: pvObject("pv-10", size: "10Gi"))
            try await sim.store.create(pvs, namespace: nil, object: pvObject("pv-2", size: "2Gi"))
            try await sim.store.create(try await sim.type("", "persistentvolumeclaims"), namespace: "default", object: pvcObject("c"))
            let claim = try await sim.waitFor("", "persistentvolumeclaims", name: "c", "Bound", phase("Bound"))
            #expect(claim?[path: ["spec", "volumeName"]] == "pv-2")
        }
    }

    @Test func accessModeMismatchStaysPending() async throws {
        try await SimTestCluster.run { sim in
            try await sim.store.create(try await sim.type("", "persistentvolumes"), namespace: nil, object: pvObject("pv", size: "5Gi"))
            try await sim.store.create(try await sim.type("", "persistentvolumeclaims"), namespace: "default", object: pvcObject("c", modes: ["ReadWriteMany"]))
            try await sim.waitFor("", "persistentvolumes", namespace: nil, name: "pv", "Available", phase("Available"))
            let claim = try await sim.waitFor("", "persistentvolumeclaims", name: "c", "Pending", phase("Pending"))
            #expect(claim?[path: ["spec", "volumeName"]] == nil)
        }
    }

    @Test func preBoundClaimWaitsForItsVolumeAndRejectsATooSmallOne() async throws {
        try await SimTestCluster.run { sim in
            let pvs = try await sim.type("", "persistentvolumes")
            let claims = try await sim.type("", "persistentvolumeclaims")
            try await sim.store.create(claims, namespace: "default", object: pvcObject("c", size: "3Gi", volumeName: "pv-x"))
            try await sim.store.create(claims, namespace: "default", object: pvcObject("small", size: "3Gi", volumeName: "pv-tiny"))
            try await sim.store.create(pvs, namespace: nil, object: pvObject("pv-tiny", size: "1Gi"))
            try await sim.store.create(pvs, namespace: nil, object: pvObject("pv-x", size: "5Gi"))
            let bound = try await sim.waitFor("", "persistentvolumeclaims", name: "c", "Bound", phase("Bound"))
            #expect(bound?[path: ["metadata", "annotations", "pv.kubernetes.io/bound-by-controller"]] == nil, "the user set volumeName")
            let events = try await sim.type("", "events")
            let store = sim.store
            let mismatch = try await Self.waitForEvent(store, events, reason: "VolumeMismatch", about: "small")
            #expect(mismatch["message"]?.stringValue?.contains("too small") == true)
            #expect(await store.find(claims, namespace: "default", name: "small")?[path: ["status", "phase"]] == "Pending")
        }
    }

    @Test func claimRefReservesAVolume() async throws {
        try await SimTestCluster.run { sim in
            let claims = try await sim.type("", "persistentvolumeclaims")
            try await sim.store.create(
                try await sim.type("", "persistentvolumes"), namespace: nil,
                object: pvObject("reserved", size: "5Gi", claimRef: ["namespace": "default", "name": "owner"]))
            try await sim.store.create(claims, namespace: "default", object: pvcObject("other"))
            try await sim.waitFor("", "persistentvolumes", namespace: nil, name: "reserved", "Available", phase("Available"))
            try await sim.store.create(claims, namespace: "default", object: pvcObject("owner"))
            let owner = try await sim.waitFor("", "persistentvolumeclaims", name: "owner", "Bound", phase("Bound"))
            #expect(owner?[path: ["spec", "volumeName"]] == "reserved")
            #expect(await sim.store.find(claims, namespace: "default", name: "other")?[path: ["status", "phase"]] == "Pending")
        }
    }

    @Test func retainKeepsAReleasedVolumeUntilClaimRefIsRemoved() async throws {
        try await SimTestCluster.run { sim in
            let pvs = try await sim.type("", "persistentvolumes")
            let claims = try await sim.type("", "persistentvolumeclaims")
            try await sim.store.create(pvs, namespace: nil, object: pvObject("pv", size: "1Gi"))
            try await sim.store.create(claims, namespace: "default", object: pvcObject("c"))
            try await sim.waitFor("", "persistentvolumeclaims", name: "c", "Bound", phase("Bound"))
            try await sim.store.delete(claims, namespace: "default", name: "c")
            try await sim.waitFor("", "persistentvolumeclaims", name: "c", "deleted", absent)
            let released = try await sim.waitFor("", "persistentvolumes", namespace: nil, name: "pv", "Released", phase("Released"))
            #expect(released?[path: ["spec", "claimRef", "name"]] == "c")
            try await sim.store.patch(pvs, namespace: nil, name: "pv") { old throws(APIError) in
                var updated = old
                updated[path: ["spec", "claimRef"]] = nil
                return updated
            }
            try await sim.waitFor("", "persistentvolumes", namespace: nil, name: "pv", "Available", phase("Available"))
        }
    }

    @Test func deletedVolumeUnderABoundClaimMakesItLost() async throws {
        try await SimTestCluster.run { sim in
            let pvs = try await sim.type("", "persistentvolumes")
            try await sim.store.create(pvs, namespace: nil, object: pvObject("pv", size: "1Gi"))
            try await sim.store.create(try await sim.type("", "persistentvolumeclaims"), namespace: "default", object: pvcObject("c"))
            try await sim.waitFor("", "persistentvolumeclaims", name: "c", "Bound", phase("Bound"))
            // pv-protection holds a bound volume; a forced removal (finalizer stripped) is what loses it.
            let deleting = try await sim.store.delete(pvs, namespace: nil, name: "pv")
            #expect(deleting.gone == false, "pv-protection keeps a bound volume")
            try await sim.store.patch(pvs, namespace: nil, name: "pv") { old throws(APIError) in
                var updated = old
                updated[path: ["metadata", "finalizers"]] = nil
                return updated
            }
            try await sim.waitFor("", "persistentvolumeclaims", name: "c", "Lost", phase("Lost"))
        }
    }

    @Test func longhornClassIsProvisionedBoundAndDeletedWithItsData() async throws {
        try await SimTestCluster.run { sim in
            try await sim.store.create(
                try await sim.type("storage.k8s.io", "storageclasses"), namespace: nil,
                object: [
                    "metadata": ["name": "longhorn"], "provisioner": "driver.longhorn.io", "reclaimPolicy": "Delete",
                    "parameters": ["numberOfReplicas": "3"],
                ])
            let claims = try await sim.type("", "persistentvolumeclaims")
            let created = try await sim.store.create(claims, namespace: "default", object: pvcObject("c", size: "2Gi", className: "longhorn"))
            let uid = try #require(created[path: ["metadata", "uid"]]?.stringValue)
            let claim = try await sim.waitFor("", "persistentvolumeclaims", name: "c", "Bound", phase("Bound"))
            #expect(claim?[path: ["spec", "volumeName"]]?.stringValue == "pvc-\(uid)")
            let pv = try #require(await sim.store.find(try await sim.type("", "persistentvolumes"), namespace: nil, name: "pvc-\(uid)"))
            #expect(pv[path: ["spec", "csi", "driver"]] == "driver.longhorn.io")
            #expect(pv[path: ["spec", "csi", "volumeHandle"]]?.stringValue == "pvc-\(uid)")
            #expect(pv[path: ["metadata", "annotations", "pv.kubernetes.io/provisioned-by"]] == "driver.longhorn.io")
            #expect(pv[path: ["spec", "persistentVolumeReclaimPolicy"]] == "Delete")
            let dataDir = try sim.cluster.volumes.directory(volumeKey: "pvc-\(uid)")
            try Data("x".utf8).write(to: dataDir.appendingPathComponent("f"))
            try await sim.store.delete(claims, namespace: "default", name: "c")
            try await sim.waitFor("", "persistentvolumes", namespace: nil, name: "pvc-\(uid)", "deleted", absent)
            #expect(!FileManager.default.fileExists(atPath: dataDir.path), "the Delete policy removed the backing volume")
        }
    }

    @Test func claimInUseByARunningPodIsProtected() async throws {
        try await SimTestCluster.run { sim in
            let claims = try await sim.type("", "persistentvolumeclaims")
            let pods = try await sim.type("", "pods")
            try await sim.store.create(try await sim.type("", "persistentvolumes"), namespace: nil, object: pvObject("pv", size: "1Gi"))
            try await sim.store.create(claims, namespace: "default", object: pvcObject("c"))
            try await sim.store.create(
                pods, namespace: "default",
                object: podObject(
                    "user",
                    volumes: [["name": "v", "persistentVolumeClaim": ["claimName": "c"]]], mounts: [["name": "v", "mountPath": .string(uniqueMountPath())]]))
            try await sim.waitFor("", "pods", name: "user", "Running", phase("Running"))
            let deleting = try await sim.store.delete(claims, namespace: "default", name: "c")
            #expect(deleting.gone == false)
            let held = await sim.store.find(claims, namespace: "default", name: "c")
            #expect(held?[path: ["status", "phase"]] == "Bound" && held?[path: ["metadata", "deletionTimestamp"]] != nil)
            var options = ClusterStore.DeleteOptions()
            options.gracePeriodSeconds = 0
            try await sim.store.delete(pods, namespace: "default", name: "user", options: options)
            try await sim.waitFor("", "persistentvolumeclaims", name: "c", "deleted", absent)
        }
    }

    @Test func quantities() {
        #expect(Quantity.bytes("1Gi") == 1_073_741_824)
        #expect(Quantity.bytes("500Mi") == 524_288_000)
        #expect(Quantity.bytes("1G") == 1e9)
        #expect(Quantity.bytes("1024") == 1024)
        #expect(Quantity.bytes("abc") == nil)
    }

    static func waitForEvent(_ store: ClusterStore, _ events: ResourceType, reason: String, about name: String) async throws -> JSONValue {
        let stream = try await store.watch(events, namespace: "default", fromRevision: nil) {
            $0["reason"]?.stringValue == reason && $0[path: ["involvedObject", "name"]]?.stringValue == name
        }
        return try await withThrowingTaskGroup(of: JSONValue?.self) { group in
            group.addTask {
                for await event in stream { return event.object }
                return nil
            }
            group.addTask {
                try await Task.sleep(for: .seconds(90))
                return nil
            }
            let first = try await group.next() ?? nil
            group.cancelAll()
            guard let first else { throw WaitTimeout(description: "no \(reason) event about \(name) within 90 s") }
            return first
        }
    }
}
