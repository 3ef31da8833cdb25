import Foundation
import KubeModels
import Testing

@testable import Simulator

/// The API conventions of simulator-fidelity.md section 2, checked on the store directly.
@Suite struct ClusterStoreTests {
    func store() async -> (ClusterStore, ResourceType) {
        let cluster = await SimulatedCluster()
        let type = await cluster.store.type(group: "", resource: "configmaps")!
        return (cluster.store, type)
    }

    func cm(_ name: String, _ data: JSONValue = [:], namespace: String = "default") -> JSONValue {
        ["metadata": ["name": .string(name), "namespace": .string(namespace)], "data": data]
    }

    @Test func createFillsServerOwnedMetadata() async throws {
        let (store, type) = await store()
        let created = try await store.create(type, namespace: "default", object: cm("a"))
        #expect(created[path: ["metadata", "uid"]]?.stringValue?.count == 36)
        #expect(created[path: ["metadata", "creationTimestamp"]]?.stringValue?.hasSuffix("Z") == true)
        #expect(created[path: ["metadata", "resourceVersion"]] != nil)
        #expect(created["kind"] == "ConfigMap" && created["apiVersion"] == "v1")
        let deployments = await store.type(group: "apps", resource: "deployments")!
        let deployment = try await store.create(
            deployments, namespace: "default", object: ["metadata": ["name": "d"], "spec": ["selector": ["matchLabels": ["a": "b"]]]])
        #expect(deployment[path: ["metadata", "generation"]] == 1)
        #expect(deployment[path: ["spec", "replicas"]] == 1, "defaulted like the real server")
    }

    @Test func createRefusals() async throws {
        let (store, type) = await store()
        try await store.create(type, namespace: "default", object: cm("a"))
        await #expect(throws: APIError.self) { try await store.create(type, namespace: "default", object: cm("a")) }
        do {
            try await store.create(type, namespace: "missing", object: cm("a", namespace: "missing"))
            Issue.record("missing namespace accepted")
        } catch {
            #expect(error.code == 404 && error.message == "namespaces \"missing\" not found")
        }
        do {
            var withVersion = cm("v")
            withVersion[path: ["metadata", "resourceVersion"]] = "5"
            try await store.create(type, namespace: "default", object: withVersion)
            Issue.record("resourceVersion on create accepted")
        } catch { #expect(error.code == 400) }
        do {
            try await store.create(type, namespace: "default", object: cm("Bad_Name"))
            Issue.record("invalid name accepted")
        } catch {
            #expect(error.code == 422 && error.reason == "Invalid")
            #expect(error.status.details?.causes.first?.field == "metadata.name")
        }
    }

    @Test func generateNameGivesDistinctNames() async throws {
        let (store, type) = await store()
        let object: JSONValue = ["metadata": ["generateName": "x-"]]
        let first = try await store.create(type, namespace: "default", object: object)
        let second = try await store.create(type, namespace: "default", object: object)
        let a = first[path: ["metadata", "name"]]?.stringValue ?? ""
        let b = second[path: ["metadata", "name"]]?.stringValue ?? ""
        #expect(a.hasPrefix("x-") && a.count == 7 && a != b)
    }

    @Test func staleUpdateConflictsAndNoOpPersistsNothing() async throws {
        let (store, type) = await store()
        let created = try await store.create(type, namespace: "default", object: cm("a", ["k": "1"]))
        let events = try await store.watch(type, namespace: "default", fromRevision: await store.currentRevision)
        let same = try await store.update(type, namespace: "default", name: "a", object: created)
        #expect(same[path: ["metadata", "resourceVersion"]] == created[path: ["metadata", "resourceVersion"]])
        var changed = created
        changed["data"] = ["k": "2"]
        let updated = try await store.update(type, namespace: "default", name: "a", object: changed)
        #expect(updated[path: ["metadata", "resourceVersion"]] != created[path: ["metadata", "resourceVersion"]])
        do {
            try await store.update(type, namespace: "default", name: "a", object: changed)
            Issue.record("stale resourceVersion accepted")
        } catch {
            #expect(error.code == 409 && error.message.contains("the object has been modified"))
        }
        var iterator = events.makeAsyncIterator()
        let first = await iterator.next()
        #expect(first?.type == .modified && first?.object["data"] == ["k": "2"], "the no-op update emitted no event")
    }

    @Test func generationMovesOnlyWithSpec() async throws {
        let cluster = await SimulatedCluster()
        let type = await cluster.store.type(group: "apps", resource: "deployments")!
        try await cluster.store.create(type, namespace: "default", object: ["metadata": ["name": "d"], "spec": ["selector": ["matchLabels": ["a": "b"]]]])
        let labelled = try await cluster.store.patch(type, namespace: "default", name: "d") { old throws(APIError) in
            var new = old
            new[path: ["metadata", "labels"]] = ["x": "y"]
            return new
        }
        #expect(labelled[path: ["metadata", "generation"]] == 1)
        let scaled = try await cluster.store.patch(type, namespace: "default", name: "d") { old throws(APIError) in
            var new = old
            new[path: ["spec", "replicas"]] = 3
            return new
        }
        #expect(scaled[path: ["metadata", "generation"]] == 2)
        let status = try await cluster.store.patch(type, namespace: "default", name: "d", target: .status) { old throws(APIError) in
            var new = old
            new[path: ["status", "replicas"]] = 3
            new[path: ["spec", "replicas"]] = 9
            return new
        }
        #expect(status[path: ["metadata", "generation"]] == 2)
        #expect(status[path: ["spec", "replicas"]] == 3, "a status write drops spec changes")
        #expect(status[path: ["status", "replicas"]] == 3)
        let mainWrite = try await cluster.store.patch(type, namespace: "default", name: "d") { old throws(APIError) in
            var new = old
            new[path: ["status", "replicas"]] = 7
            return new
        }
        #expect(mainWrite[path: ["status", "replicas"]] == 3, "a main-resource write ignores status")
    }

    @Test func finalizersHoldDeletion() async throws {
        let (store, type) = await store()
        var object = cm("f")
        object[path: ["metadata", "finalizers"]] = ["x/y"]
        try await store.create(type, namespace: "default", object: object)
        let result = try await store.delete(type, namespace: "default", name: "f")
        #expect(!result.gone && result.object[path: ["metadata", "deletionTimestamp"]] != nil)
        do {
            try await store.patch(type, namespace: "default", name: "f") { old throws(APIError) in
                var new = old
                new[path: ["metadata", "finalizers"]] = ["x/y", "new/one"]
                return new
            }
            Issue.record("a new finalizer was accepted during deletion")
        } catch {
            #expect(error.code == 422 && error.message.contains("no new finalizers can be added if the object is being deleted"))
        }
        try await store.patch(type, namespace: "default", name: "f") { old throws(APIError) in
            var new = old
            new[path: ["metadata", "finalizers"]] = []
            return new
        }
        #expect(await store.find(type, namespace: "default", name: "f") == nil)
    }

    @Test func pagingAndExpiredContinueTokens() async throws {
        let (store, type) = await store()
        for index in 0..<7 { try await store.create(type, namespace: "default", object: cm("c\(index)")) }
        let first = try await store.list(type, namespace: "default", limit: 3)
        #expect(first.items.count == 3 && first.remainingItemCount == 4)
        let second = try await store.list(type, namespace: "default", limit: 3, continueToken: first.continueToken)
        #expect(second.items.first?[path: ["metadata", "name"]] == "c3")
        await store.compact()
        do {
            _ = try await store.list(type, namespace: "default", limit: 3, continueToken: second.continueToken)
            Issue.record("an expired continue token was accepted")
        } catch { #expect(error.code == 410) }
    }

    @Test func watchReplaysHistoryAndExpires() async throws {
        let (store, type) = await store()
        let start = await store.currentRevision
        try await store.create(type, namespace: "default", object: cm("a"))
        try await store.delete(type, namespace: "default", name: "a")
        var replay = try await store.watch(type, namespace: "default", fromRevision: start).makeAsyncIterator()
        #expect(await replay.next()?.type == .added)
        #expect(await replay.next()?.type == .deleted)
        await store.compact()
        do {
            _ = try await store.watch(type, namespace: "default", fromRevision: start)
            Issue.record("a compacted resourceVersion was accepted")
        } catch { #expect(error.code == 410 && error.message.hasPrefix("too old resource version")) }
    }

    @Test func smallHistoryWindowExpiresOldVersions() async throws {
        let cluster = await SimulatedCluster(historyLimit: 5)
        let type = await cluster.store.type(group: "", resource: "configmaps")!
        let start = await cluster.store.currentRevision
        for index in 0..<10 { try await cluster.store.create(type, namespace: "default", object: cm("h\(index)")) }
        await #expect(throws: APIError.self) { _ = try await cluster.store.watch(type, namespace: "default", fromRevision: start) }
    }

    @Test func filteredWatchSeesObjectsLeaveAndEnter() async throws {
        let (store, type) = await store()
        var object = cm("l")
        object[path: ["metadata", "labels"]] = ["app": "a"]
        try await store.create(type, namespace: "default", object: object)
        let selector = try LabelSelector(parsing: "app=a")
        let events = try await store.watch(type, namespace: "default", fromRevision: await store.currentRevision) {
            selector.matches(LabelSelector.labels(of: $0))
        }
        try await store.patch(type, namespace: "default", name: "l") { old throws(APIError) in
            var new = old
            new[path: ["metadata", "labels", "app"]] = "b"
            return new
        }
        try await store.patch(type, namespace: "default", name: "l") { old throws(APIError) in
            var new = old
            new[path: ["metadata", "labels", "app"]] = "a"
            return new
        }
        var iterator = events.makeAsyncIterator()
        #expect(await iterator.next()?.type == .deleted)
        #expect(await iterator.next()?.type == .added)
    }

    @Test func streamingListEndsWithTheInitialEventsBookmark() async throws {
        let (store, type) = await store()
        try await store.create(type, namespace: "default", object: cm("s"))
        var iterator = try await store.watch(type, namespace: "default", fromRevision: nil, sendInitialEvents: true).makeAsyncIterator()
        #expect(await iterator.next()?.type == .added)
        let bookmark = await iterator.next()
        #expect(bookmark?.type == .bookmark)
        #expect(bookmark?.object[path: ["metadata", "annotations", "k8s.io/initial-events-end"]] == "true")
    }

    @Test func garbageCollectionFollowsOwnerReferences() async throws {
        let (store, type) = await store()
        let owner = try await store.create(type, namespace: "default", object: cm("owner"))
        let uid = owner[path: ["metadata", "uid"]] ?? ""
        for name in ["dep1", "dep2"] {
            var dependent = cm(name)
            dependent[path: ["metadata", "ownerReferences"]] = [
                ["apiVersion": "v1", "kind": "ConfigMap", "name": "owner", "uid": uid, "blockOwnerDeletion": true]
            ]
            try await store.create(type, namespace: "default", object: dependent)
        }
        // Orphan: dependents stay, without the reference.
        try await store.delete(type, namespace: "default", name: "owner", options: .init(propagation: .orphan))
        await store.sweep()
        await store.sweep()
        #expect(await store.find(type, namespace: "default", name: "owner") == nil)
        #expect(await store.find(type, namespace: "default", name: "dep1")?[path: ["metadata", "ownerReferences"]] == nil)

        // Background: dependents of a deleted owner go.
        let second = try await store.create(type, namespace: "default", object: cm("owner2"))
        var dependent = cm("dep3")
        dependent[path: ["metadata", "ownerReferences"]] = [
            ["apiVersion": "v1", "kind": "ConfigMap", "name": "owner2", "uid": second[path: ["metadata", "uid"]] ?? ""]
        ]
        try await store.create(type, namespace: "default", object: dependent)
        try await store.delete(type, namespace: "default", name: "owner2")
        await store.sweep()
        #expect(await store.find(type, namespace: "default", name: "dep3") == nil)
    }

    @Test func namespaceDeletionEmptiesItFirst() async throws {
        let (store, type) = await store()
        let namespaces = await store.type(group: "", resource: "namespaces")!
        try await store.create(namespaces, namespace: nil, object: ["metadata": ["name": "t"]])
        try await store.create(type, namespace: "t", object: cm("inside", namespace: "t"))
        let deleting = try await store.delete(namespaces, namespace: nil, name: "t")
        #expect(!deleting.gone && deleting.object[path: ["status", "phase"]] == "Terminating")
        do {
            try await store.create(type, namespace: "t", object: cm("late", namespace: "t"))
            Issue.record("created in a terminating namespace")
        } catch { #expect(error.code == 403) }
        await store.sweep()
        await store.sweep()
        #expect(await store.find(namespaces, namespace: nil, name: "t") == nil)
        #expect(await store.find(type, namespace: "t", name: "inside") == nil)
    }

    @Test func customResourceDefinitionsServeNewKinds() async throws {
        let (store, _) = await store()
        let crds = await store.type(group: "apiextensions.k8s.io", resource: "customresourcedefinitions")!
        try await store.create(
            crds, namespace: nil,
            object: [
                "metadata": ["name": "frobs.example.com"],
                "spec": [
                    "group": "example.com", "scope": "Namespaced", "names": ["plural": "frobs", "singular": "frob", "kind": "Frob"],
                    "versions": [
                        [
                            "name": "v1", "served": true, "storage": true, "subresources": ["status": [:]],
                            "schema": [
                                "openAPIV3Schema": ["type": "object", "properties": ["spec": ["type": "object", "properties": ["size": ["type": "integer"]]]]]
                            ],
                        ]
                    ],
                ],
            ])
        let frobs = try #require(await store.type(group: "example.com", resource: "frobs"))
        #expect(frobs.isCustom && frobs.hasStatus)
        #expect(FieldValidator.unknownFields(["spec": ["size": 1, "colour": "red"]], type: frobs) == ["spec.colour"])
        try await store.delete(crds, namespace: nil, name: "frobs.example.com")
        #expect(await store.type(group: "example.com", resource: "frobs") == nil)
    }
}
