import Foundation
import KubeModels
import Testing

@testable import Simulator

/// Deployment → ReplicaSet → Pods, and Job → Pods.
@Suite struct WorkloadControllerTests {
    func deployment(_ name: String, replicas: Int = 2, image: String = "nginx:1.27") -> JSONValue {
        [
            "metadata": ["name": .string(name), "namespace": "default"],
            "spec": [
                "replicas": .number(Double(replicas)), "selector": ["matchLabels": ["app": .string(name)]],
                "template": ["metadata": ["labels": ["app": .string(name)]], "spec": ["containers": [["name": "web", "image": .string(image)]]]],
            ],
        ]
    }

    func job(_ name: String, command: [String], backoffLimit: Int = 6, ttl: Int? = nil) -> JSONValue {
        var job: JSONValue = [
            "metadata": ["name": .string(name), "namespace": "default"],
            "spec": [
                "backoffLimit": .number(Double(backoffLimit)),
                "template": [
                    "spec": ["restartPolicy": "Never", "containers": [["name": "run", "image": "busybox", "command": .array(command.map { .string($0) })]]]
                ],
            ],
        ]
        if let ttl { job[path: ["spec", "ttlSecondsAfterFinished"]] = .number(Double(ttl)) }
        return job
    }

    static func rolledOut(_ replicas: Int) -> @Sendable (JSONValue?) -> Bool {
        { d in
            guard let d else { return false }
            return d[path: ["status", "observedGeneration"]] == d[path: ["metadata", "generation"]]
                && d[path: ["status", "updatedReplicas"]]?.intValue == replicas && d[path: ["status", "replicas"]]?.intValue == replicas
                && d[path: ["status", "availableReplicas"]]?.intValue == replicas
                && condition(d, "Progressing")?["reason"] == "NewReplicaSetAvailable" && condition(d, "Available")?["status"] == "True"
        }
    }

    @Test func deploymentRollsOutThroughAReplicaSet() async throws {
        try await SimTestCluster.run { sim in
            let deployments = try await sim.type("apps", "deployments")
            try await sim.store.create(deployments, namespace: "default", object: deployment("d"))
            try await sim.waitFor("apps", "deployments", name: "d", "rolled out", Self.rolledOut(2))
            let sets = try await sim.store.list(try await sim.type("apps", "replicasets"), namespace: "default").items
            #expect(sets.count == 1)
            let set = try #require(sets.first)
            let hash = try #require(set[path: ["metadata", "labels", "pod-template-hash"]]?.stringValue)
            #expect(set[path: ["metadata", "name"]]?.stringValue == "d-\(hash)")
            #expect(set[path: ["metadata", "ownerReferences"]]?.arrayValue?.first?["controller"] == true)
            #expect(set[path: ["metadata", "ownerReferences"]]?.arrayValue?.first?["blockOwnerDeletion"] == true)
            let pods = try await sim.store.list(try await sim.type("", "pods"), namespace: "default").items
            #expect(pods.count == 2)
            #expect(pods.allSatisfy { $0[path: ["metadata", "labels", "pod-template-hash"]]?.stringValue == hash })
            #expect(pods.allSatisfy { $0[path: ["metadata", "ownerReferences"]]?.arrayValue?.first?["uid"] == set[path: ["metadata", "uid"]] })

            // A new template rolls out a second ReplicaSet and scales the first to zero.
            try await sim.store.patch(deployments, namespace: "default", name: "d") { old throws(APIError) in
                var updated = old
                updated[path: ["spec", "template", "spec", "containers"]] = [["name": "web", "image": "nginx:1.28"]]
                return updated
            }
            let rolled = try await sim.waitFor("apps", "deployments", name: "d", "rolled out again") {
                Self.rolledOut(2)($0) && $0?[path: ["metadata", "annotations", "deployment.kubernetes.io/revision"]] == "2"
            }
            #expect(rolled?[path: ["status", "observedGeneration"]] == 2)
        }
    }

    @Test func deletingADeploymentRemovesItsReplicaSetsAndPods() async throws {
        try await SimTestCluster.run { sim in
            let deployments = try await sim.type("apps", "deployments")
            try await sim.store.create(deployments, namespace: "default", object: deployment("d", replicas: 1))
            try await sim.waitFor("apps", "deployments", name: "d", "rolled out", Self.rolledOut(1))
            let pods = try await sim.type("", "pods")
            let podName = try #require(try await sim.store.list(pods, namespace: "default").items.first?[path: ["metadata", "name"]]?.stringValue)
            try await sim.store.delete(deployments, namespace: "default", name: "d")
            try await sim.waitFor("", "pods", name: podName, "deleted", absent)
            #expect(try await sim.store.list(try await sim.type("apps", "replicasets"), namespace: "default").items.isEmpty)
        }
    }

    @Test func jobCompletes() async throws {
        try await SimTestCluster.run { sim in
            try await sim.store.create(try await sim.type("batch", "jobs"), namespace: "default", object: job("j", command: ["sh", "-c", "echo done"]))
            let finished = try #require(try await sim.waitFor("batch", "jobs", name: "j", "complete") { condition($0, "Complete")?["status"] == "True" })
            #expect(finished[path: ["status", "succeeded"]] == 1)
            #expect(finished[path: ["status", "startTime"]] != nil && finished[path: ["status", "completionTime"]] != nil)
            #expect(condition(finished, "SuccessCriteriaMet")?["status"] == "True")
            #expect(finished["status"]?.objectValue?.keys.contains("active") == false, "a finished job has no active field (not even null)")
            #expect(finished["status"]?.objectValue?.keys.contains("failed") == false)
            let pods = try await sim.store.list(try await sim.type("", "pods"), namespace: "default").items
            #expect(pods.count == 1)
            #expect(pods.first?[path: ["metadata", "labels", "job-name"]] == "j")
            // The defaulted selector (the job's uid) finds exactly the job's pods, as `kubectl logs job/j` needs.
            let selector = try #require(finished[path: ["spec", "selector", "matchLabels", "batch.kubernetes.io/controller-uid"]])
            #expect(selector == finished[path: ["metadata", "uid"]])
            #expect(pods.first?[path: ["metadata", "labels", "batch.kubernetes.io/controller-uid"]] == selector)
        }
    }

    @Test func jobFailsAfterBackoffLimit() async throws {
        try await SimTestCluster.run { sim in
            try await sim.store.create(
                try await sim.type("batch", "jobs"), namespace: "default", object: job("j", command: ["sh", "-c", "exit 1"], backoffLimit: 1))
            let failed = try #require(try await sim.waitFor("batch", "jobs", name: "j", "failed") { condition($0, "Failed")?["status"] == "True" })
            #expect(failed[path: ["status", "failed"]] == 2, "backoffLimit 1 allows one retry")
            #expect(condition(failed, "Failed")?["reason"] == "BackoffLimitExceeded")
            #expect(condition(failed, "FailureTarget")?["status"] == "True")
            #expect(condition(failed, "Complete") == nil)
        }
    }

    @Test func finishedJobIsDeletedAfterItsTTL() async throws {
        try await SimTestCluster.run { sim in
            try await sim.store.create(try await sim.type("batch", "jobs"), namespace: "default", object: job("j", command: ["true"], ttl: 0))
            try await sim.waitFor("batch", "jobs", name: "j", "deleted after its TTL", absent)
        }
    }
}
