import Foundation
import KubeModels

/// A control loop of the simulated cluster.
protocol Controller: Sendable {
    func run() async
}

enum Controllers {
    static func all(_ cluster: SimulatedCluster) -> [any Controller] {
        [
            Sweeper(store: cluster.store, interval: .milliseconds(50)),
            Kubelet(store: cluster.store, runtime: cluster.runtime, interval: .milliseconds(50)),
            PersistentVolumeBinder(store: cluster.store, provisioners: cluster.provisioners, interval: .milliseconds(50)),
            DynamicProvisioner(store: cluster.store, provisioners: cluster.provisioners, interval: .milliseconds(50)),
            StorageProtection(store: cluster.store, interval: .milliseconds(50)),
            JobController(store: cluster.store, interval: .milliseconds(50)),
            ReplicaSetController(store: cluster.store, interval: .milliseconds(50)),
            DeploymentController(store: cluster.store, interval: .milliseconds(50)),
        ]
    }
}

/// Runs the level-triggered housekeeping a real cluster does in separate controllers: garbage
/// collection of ownerReferences, namespace deletion, and CRD status. Level-triggered on a short
/// period, so it never misses a change the way an edge-triggered loop could.
struct Sweeper: Controller {
    let store: ClusterStore
    let interval: Duration

    func run() async {
        while !Task.isCancelled {
            await store.sweep()
            try? await Task.sleep(for: interval)
        }
    }
}

extension ClusterStore {
    /// One pass of garbage collection, namespace finalization and CRD status.
    public func sweep() {
        collectGarbage()
        finalizeNamespaces()
        establishCRDs()
    }

    private var allObjects: [(type: ResourceType, object: JSONValue)] {
        types.values.flatMap { type in
            ((try? list(type, namespace: nil).items) ?? []).map { (type, $0) }
        }
    }

    private func collectGarbage() {
        let everything = allObjects
        var byUID: [String: (type: ResourceType, object: JSONValue)] = [:]
        for entry in everything {
            if let uid = entry.object[path: ["metadata", "uid"]]?.stringValue { byUID[uid] = entry }
        }
        for (type, object) in everything {
            let references = object[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []
            guard !references.isEmpty, let name = object[path: ["metadata", "name"]]?.stringValue else { continue }
            let namespace = object[path: ["metadata", "namespace"]]?.stringValue
            var remaining: [JSONValue] = []
            var orphaned = false
            var ownerForeground = false
            for reference in references {
                guard let uid = reference["uid"]?.stringValue, let owner = byUID[uid]?.object else { continue }
                let finalizers = (owner[path: ["metadata", "finalizers"]]?.arrayValue ?? []).compactMap(\.stringValue)
                if owner[path: ["metadata", "deletionTimestamp"]] != nil, finalizers.contains("orphan") {
                    orphaned = true
                    continue
                }
                if owner[path: ["metadata", "deletionTimestamp"]] != nil, finalizers.contains("foregroundDeletion") {
                    ownerForeground = true
                }
                remaining.append(reference)
            }
            if remaining.isEmpty && !orphaned {
                // Every owner is gone: delete the dependent (background propagation).
                _ = try? delete(type, namespace: namespace, name: name, options: DeleteOptions(propagation: .background))
            } else if orphaned {
                _ = try? patch(type, namespace: namespace, name: name) { old throws(APIError) in
                    var updated = old
                    updated[path: ["metadata", "ownerReferences"]] = remaining.isEmpty ? nil : .array(remaining)
                    return updated
                }
            } else if ownerForeground {
                _ = try? delete(type, namespace: namespace, name: name, options: DeleteOptions(propagation: .foreground))
            }
        }
        // Owners waiting on foreground deletion or orphaning finish once their dependents are dealt with.
        for (type, object) in allObjects where object[path: ["metadata", "deletionTimestamp"]] != nil {
            let finalizers = (object[path: ["metadata", "finalizers"]]?.arrayValue ?? []).compactMap(\.stringValue)
            guard let uid = object[path: ["metadata", "uid"]]?.stringValue, let name = object[path: ["metadata", "name"]]?.stringValue else { continue }
            let dependents = allObjects.filter { entry in
                (entry.object[path: ["metadata", "ownerReferences"]]?.arrayValue ?? []).contains { $0["uid"]?.stringValue == uid }
            }
            var drop: Set<String> = []
            if finalizers.contains("orphan"), dependents.isEmpty { drop.insert("orphan") }
            if finalizers.contains("foregroundDeletion"), dependents.isEmpty { drop.insert("foregroundDeletion") }
            guard !drop.isEmpty else { continue }
            let namespace = object[path: ["metadata", "namespace"]]?.stringValue
            _ = try? patch(type, namespace: namespace, name: name) { old throws(APIError) in
                var updated = old
                let kept = finalizers.filter { !drop.contains($0) }
                updated[path: ["metadata", "finalizers"]] = kept.isEmpty ? nil : .array(kept.map { .string($0) })
                return updated
            }
        }
    }

    private func finalizeNamespaces() {
        guard let namespaces = type(group: "", resource: "namespaces") else { return }
        for namespace in (try? list(namespaces, namespace: nil).items) ?? [] where namespace[path: ["metadata", "deletionTimestamp"]] != nil {
            guard let name = namespace[path: ["metadata", "name"]]?.stringValue else { continue }
            var left = 0
            for type in types.values where type.namespaced {
                for object in (try? list(type, namespace: name).items) ?? [] {
                    left += 1
                    if object[path: ["metadata", "deletionTimestamp"]] == nil, let objectName = object[path: ["metadata", "name"]]?.stringValue {
                        _ = try? delete(type, namespace: name, name: objectName)
                    }
                }
            }
            if left == 0 {
                _ = try? patch(namespaces, namespace: nil, name: name) { old throws(APIError) in
                    var updated = old
                    updated[path: ["spec", "finalizers"]] = []
                    return updated
                }
            }
        }
    }

    private func establishCRDs() {
        guard let crds = type(group: "apiextensions.k8s.io", resource: "customresourcedefinitions") else { return }
        for crd in (try? list(crds, namespace: nil).items) ?? [] {
            let conditions = crd[path: ["status", "conditions"]]?.arrayValue ?? []
            guard !conditions.contains(where: { $0["type"]?.stringValue == "Established" }),
                let name = crd[path: ["metadata", "name"]]?.stringValue
            else { continue }
            let stamp = Self.timestamp(now())
            _ = try? patch(crds, namespace: nil, name: name, target: .status) { old throws(APIError) in
                var updated = old
                updated[path: ["status", "conditions"]] = [
                    [
                        "type": "NamesAccepted", "status": "True", "reason": "NoConflicts", "message": "no conflicts found",
                        "lastTransitionTime": .string(stamp),
                    ],
                    [
                        "type": "Established", "status": "True", "reason": "InitialNamesAccepted", "message": "the initial names have been accepted",
                        "lastTransitionTime": .string(stamp),
                    ],
                ]
                updated[path: ["status", "acceptedNames"]] = old[path: ["spec", "names"]]
                updated[path: ["status", "storedVersions"]] = .array(
                    (old[path: ["spec", "versions"]]?.arrayValue ?? [])
                        .filter { $0["storage"]?.boolValue == true }.compactMap { $0["name"] })
                return updated
            }
        }
    }
}

/// Turns a CustomResourceDefinition into the ResourceType the server serves.
enum CustomResourceDefinitions {
    static func resourceType(from crd: JSONValue) -> ResourceType? {
        guard let group = crd[path: ["spec", "group"]]?.stringValue,
            let plural = crd[path: ["spec", "names", "plural"]]?.stringValue,
            let kind = crd[path: ["spec", "names", "kind"]]?.stringValue
        else { return nil }
        let versions = crd[path: ["spec", "versions"]]?.arrayValue ?? []
        // One version is served per kind here: the storage version (docs/simulator.md).
        guard let version = versions.first(where: { $0["storage"]?.boolValue == true }) ?? versions.first(where: { $0["served"]?.boolValue == true }),
            let versionName = version["name"]?.stringValue
        else { return nil }
        var columns: [TableColumn] = [TableColumn("Name", format: "name") { $0[path: ["metadata", "name"]] ?? .null }]
        for column in version["additionalPrinterColumns"]?.arrayValue ?? [] {
            guard let name = column["name"]?.stringValue, let path = column["jsonPath"]?.stringValue else { continue }
            let keys = path.split(separator: ".").map(String.init)
            let isAge = path == ".metadata.creationTimestamp"
            columns.append(
                TableColumn(isAge ? "Age" : name, type: column["type"]?.stringValue ?? "string", priority: column["priority"]?.intValue ?? 0) {
                    $0[path: keys] ?? .null
                })
        }
        if !columns.contains(where: { $0.name == "Age" }) {
            columns.append(TableColumn("Age") { $0[path: ["metadata", "creationTimestamp"]] ?? .null })
        }
        var subresources: [String] = []
        if version[path: ["subresources", "status"]] != nil { subresources.append("status") }
        return ResourceType(
            group: group, version: versionName, resource: plural, kind: kind,
            singular: crd[path: ["spec", "names", "singular"]]?.stringValue ?? kind.lowercased(),
            namespaced: crd[path: ["spec", "scope"]]?.stringValue != "Cluster",
            shortNames: (crd[path: ["spec", "names", "shortNames"]]?.arrayValue ?? []).compactMap(\.stringValue),
            categories: (crd[path: ["spec", "names", "categories"]]?.arrayValue ?? []).compactMap(\.stringValue),
            subresources: subresources, columns: columns, isCustom: true,
            schema: version[path: ["schema", "openAPIV3Schema"]], hasSpec: true)
    }
}
