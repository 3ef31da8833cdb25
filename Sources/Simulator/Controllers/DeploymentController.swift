import Foundation
import KubeModels

/// Deployment → ReplicaSets: one ReplicaSet per pod template (named `<deployment>-<template hash>`,
/// labelled `pod-template-hash`), the current one scaled to `spec.replicas` and older ones to zero
/// (an instant rollout), and the status `kubectl rollout status` reads: observedGeneration,
/// replicas/updatedReplicas/readyReplicas/availableReplicas, and the Available/Progressing conditions.
struct DeploymentController: Controller {
    static let revision = "deployment.kubernetes.io/revision"
    let store: ClusterStore
    let interval: Duration

    func run() async {
        await ControllerLoop(store: store, interval: interval).run {
            await store.run { store in Self.sync(store) }
        }
    }

    static func sync(_ store: isolated ClusterStore) {
        guard let deploymentType = store.type(group: "apps", resource: "deployments"),
            let setType = store.type(group: "apps", resource: "replicasets")
        else { return }
        for deployment in (try? store.list(deploymentType, namespace: nil).items) ?? [] where deployment[path: ["metadata", "deletionTimestamp"]] == nil {
            sync(deployment, store: store, deploymentType: deploymentType, setType: setType)
        }
    }

    static func sync(_ deployment: JSONValue, store: isolated ClusterStore, deploymentType: ResourceType, setType: ResourceType) {
        guard let name = deployment[path: ["metadata", "name"]]?.stringValue, let namespace = deployment[path: ["metadata", "namespace"]]?.stringValue,
            var template = deployment[path: ["spec", "template"]]
        else { return }
        let replicas = deployment[path: ["spec", "replicas"]]?.intValue ?? 1
        let hash = Workload.hash(template)
        template[path: ["metadata", "labels", "pod-template-hash"]] = .string(hash)
        let owned = ((try? store.list(setType, namespace: namespace).items) ?? []).filter { Workload.isOwned($0, by: deployment) }
        let currentName = "\(name)-\(hash)"
        let revisions = owned.compactMap { $0[path: ["metadata", "annotations", revision]]?.stringValue.flatMap { Int($0) } }
        var current = owned.first { $0[path: ["metadata", "name"]]?.stringValue == currentName }
        if current == nil {
            var selector = deployment[path: ["spec", "selector"]] ?? [:]
            selector[path: ["matchLabels", "pod-template-hash"]] = .string(hash)
            var labels = template[path: ["metadata", "labels"]] ?? [:]
            labels["pod-template-hash"] = .string(hash)
            let set: JSONValue = [
                "metadata": [
                    "name": .string(currentName), "namespace": .string(namespace), "labels": labels,
                    "annotations": [
                        revision: .string(String((revisions.max() ?? 0) + 1)),
                        "deployment.kubernetes.io/desired-replicas": .string(String(replicas)),
                        "deployment.kubernetes.io/max-replicas": .string(String(replicas + 1)),
                    ],
                    "ownerReferences": [Workload.controllerReference(to: deployment)],
                ],
                "spec": [
                    "replicas": .number(Double(replicas)), "selector": selector, "template": template,
                    "minReadySeconds": deployment[path: ["spec", "minReadySeconds"]] ?? 0,
                ],
            ]
            current = try? store.create(setType, namespace: namespace, object: set)
        }
        for set in owned {
            guard let setName = set[path: ["metadata", "name"]]?.stringValue else { continue }
            let wanted = setName == currentName ? replicas : 0
            if set[path: ["spec", "replicas"]]?.intValue != wanted {
                _ = try? store.patch(setType, namespace: namespace, name: setName) { old throws(APIError) in
                    var updated = old
                    updated[path: ["spec", "replicas"]] = .number(Double(wanted))
                    updated[path: ["metadata", "annotations", "deployment.kubernetes.io/desired-replicas"]] = .string(String(replicas))
                    return updated
                }
            }
        }
        let sets = ((try? store.list(setType, namespace: namespace).items) ?? []).filter { Workload.isOwned($0, by: deployment) }
        let count: (String) -> Int = { field in sets.reduce(0) { $0 + ($1[path: ["status", field]]?.intValue ?? 0) } }
        let currentSet = sets.first { $0[path: ["metadata", "name"]]?.stringValue == currentName }
        let updatedReplicas = currentSet?[path: ["status", "replicas"]]?.intValue ?? 0
        let total = count("replicas")
        let ready = count("readyReplicas")
        let available = count("availableReplicas")
        let currentRevision = currentSet?[path: ["metadata", "annotations", revision]] ?? current?[path: ["metadata", "annotations", revision]]
        if let currentRevision, deployment[path: ["metadata", "annotations", revision]] != currentRevision {
            _ = try? store.patch(deploymentType, namespace: namespace, name: name) { old throws(APIError) in
                var updated = old
                updated[path: ["metadata", "annotations", revision]] = currentRevision
                return updated
            }
        }
        let stamp = ClusterStore.timestamp(store.now())
        let complete = updatedReplicas == replicas && total == replicas && available == replicas
        Workload.writeStatus(store, deploymentType, deployment) { status in
            status["observedGeneration"] = deployment[path: ["metadata", "generation"]] ?? 1
            status["replicas"] = total == 0 ? nil : .number(Double(total))
            status["updatedReplicas"] = updatedReplicas == 0 ? nil : .number(Double(updatedReplicas))
            status["readyReplicas"] = ready == 0 ? nil : .number(Double(ready))
            status["availableReplicas"] = available == 0 ? nil : .number(Double(available))
            let unavailable = max(0, total - available)
            status["unavailableReplicas"] = unavailable == 0 ? nil : .number(Double(unavailable))
            if available >= replicas {
                Workload.setCondition(
                    &status, type: "Available", status: "True", reason: "MinimumReplicasAvailable", message: "Deployment has minimum availability.", now: stamp)
            } else {
                Workload.setCondition(
                    &status, type: "Available", status: "False", reason: "MinimumReplicasUnavailable",
                    message: "Deployment does not have minimum availability.", now: stamp)
            }
            if complete {
                Workload.setCondition(
                    &status, type: "Progressing", status: "True", reason: "NewReplicaSetAvailable",
                    message: "ReplicaSet \"\(currentName)\" has successfully progressed.", now: stamp)
            } else {
                Workload.setCondition(
                    &status, type: "Progressing", status: "True", reason: "ReplicaSetUpdated", message: "ReplicaSet \"\(currentName)\" is progressing.",
                    now: stamp)
            }
        }
    }
}
