import Foundation
import KubeClient
import KubeModels
import Testing

@testable import Longhorn

@Suite struct RestoreProgressTests {
    @Test func theRestoreLifecycle() {
        let sequence: [(Volume, RestoreProgress.Phase)] = [
            (Fixtures.volume(state: nil), .notStarted),
            (Fixtures.volume(state: "creating"), .notStarted),
            (Fixtures.volume(state: "detached", initiated: nil, required: nil), .notStarted),
            (Fixtures.volume(state: "detached", initiated: true, required: true), .restoring),
            (Fixtures.volume(state: "attaching", initiated: true, required: true), .restoring),
            (
                Fixtures.volume(
                    state: "attached", robustness: "healthy", initiated: true, required: true,
                    restoreCondition: LonghornCondition(type: "Restore", status: "True", reason: "RestoreInProgress")), .restoring
            ),
            (Fixtures.volume(state: "attached", robustness: "healthy", initiated: true, required: false), .finishing),
            (Fixtures.volume(state: "detaching", initiated: true, required: false), .finishing),
            (Fixtures.volume(state: "detached", initiated: true, required: false), .done),
        ]
        for (volume, phase) in sequence {
            #expect(RestoreProgress(volume).phase == phase, "\(RestoreProgress(volume))")
        }
    }

    @Test func failuresAreFinal() {
        let faulted = RestoreProgress(Fixtures.volume(state: "attached", robustness: "faulted", initiated: true, required: true))
        #expect(faulted.phase == .failed)
        let failure = RestoreProgress(
            Fixtures.volume(
                state: "detached", initiated: true, required: true,
                restoreCondition: LonghornCondition(
                    type: "Restore", status: "False", reason: "RestoreFailure",
                    message: "All replica restore failed and the volume became Faulted")))
        #expect(failure.phase == .failed)
        #expect(failure.description.contains("RestoreFailure: All replica restore failed"))
        let faultedAfter = RestoreProgress(Fixtures.volume(state: "detached", robustness: "faulted", initiated: true, required: false))
        #expect(faultedAfter.phase == .failed, "faulted is never done")
    }
}

@Suite struct WorkloadRolloutTests {
    static let manager = Workload(resource: .daemonSets, name: "longhorn-manager")
    static let attacher = Workload(resource: .deployments, name: "csi-attacher")

    static func daemonSet(generation: Int = 2, observed: Int = 2, desired: Int = 3, ready: Int = 3, updated: Int = 3, available: Int = 3) -> JSONValue {
        [
            "metadata": ["name": "longhorn-manager", "generation": .number(Double(generation))],
            "status": [
                "observedGeneration": .number(Double(observed)), "desiredNumberScheduled": .number(Double(desired)),
                "numberReady": .number(Double(ready)), "updatedNumberScheduled": .number(Double(updated)), "numberAvailable": .number(Double(available)),
            ],
        ]
    }

    static func deployment(replicas: Int? = 3, ready: Int = 3, updated: Int = 3, available: Int = 3, total: Int = 3, observed: Int = 1) -> JSONValue {
        var object: JSONValue = [
            "metadata": ["name": "csi-attacher", "generation": 1],
            "status": [
                "observedGeneration": .number(Double(observed)), "readyReplicas": .number(Double(ready)), "updatedReplicas": .number(Double(updated)),
                "availableReplicas": .number(Double(available)), "replicas": .number(Double(total)),
            ],
        ]
        if let replicas { object["spec"] = ["replicas": .number(Double(replicas))] }
        return object
    }

    @Test func daemonSets() {
        #expect(Self.manager.rollout(of: Self.daemonSet()) == .rolledOut)
        #expect(Self.manager.rollout(of: nil) == .progressing("does not exist yet"))
        #expect(Self.manager.rollout(of: Self.daemonSet(observed: 1)) != .rolledOut, "the controller has not seen the new spec")
        #expect(Self.manager.rollout(of: Self.daemonSet(ready: 2)) != .rolledOut)
        #expect(Self.manager.rollout(of: Self.daemonSet(updated: 2)) != .rolledOut, "old pods still running")
        #expect(Self.manager.rollout(of: Self.daemonSet(desired: 0, ready: 0, updated: 0, available: 0)) != .rolledOut, "no node runs it")
    }

    @Test func deployments() {
        #expect(Self.attacher.rollout(of: Self.deployment()) == .rolledOut)
        #expect(Self.attacher.rollout(of: Self.deployment(ready: 2)) != .rolledOut)
        #expect(Self.attacher.rollout(of: Self.deployment(total: 4)) != .rolledOut, "an old replica is still there")
        #expect(Self.attacher.rollout(of: Self.deployment(replicas: nil, ready: 1, updated: 1, available: 1, total: 1)) == .rolledOut, "replicas defaults to 1")
        #expect(Self.attacher.rollout(of: Self.deployment(observed: 0)) != .rolledOut)
    }

    @Test func theRequiredWorkloadsAreManagerAndCSI() {
        #expect(
            Workload.requiredForRestore.map(\.description) == [
                "ds/longhorn-manager", "ds/longhorn-csi-plugin", "deploy/csi-attacher", "deploy/csi-provisioner", "deploy/csi-resizer",
                "deploy/csi-snapshotter",
            ])
        #expect(!Workload.requiredForRestore.contains { $0.name == "longhorn-driver-deployer" })
    }
}
