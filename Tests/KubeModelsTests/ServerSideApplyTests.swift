import Testing

@testable import KubeModels

@Suite("ServerSideApply")
struct ServerSideApplyTests {
    static let t1 = "2026-11-27T01:00:00Z"
    static let t2 = "2026-11-27T02:00:00Z"

    func configMap(_ data: String, labels: String = #"{"app":"a"}"#) -> JSONValue {
        json(#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"c","namespace":"t","labels":\#(labels)},"data":\#(data)}"#)
    }

    func entries(_ object: JSONValue) throws -> [ManagedFieldsEntry] {
        try ManagedFieldsEntry.entries(of: object)
    }

    @Test func createRecordsAnApplyEntry() throws {
        let created = try ServerSideApply.apply(configMap(#"{"a":"1"}"#), to: nil, manager: "kubectl", time: Self.t1, schema: .genericObject)
        #expect(created["data"] == json(#"{"a":"1"}"#))
        let managed = created[path: ["metadata", "managedFields"]]
        #expect(
            managed
                == json(
                    #"[{"apiVersion":"v1","fieldsType":"FieldsV1","fieldsV1":{"f:data":{"f:a":{}},"f:metadata":{"f:labels":{"f:app":{}}}},"manager":"kubectl","operation":"Apply","time":"2026-11-27T01:00:00Z"}]"#
                ))
    }

    @Test func otherManagerChangingAFieldConflicts() throws {
        let live = try ServerSideApply.apply(configMap(#"{"a":"1"}"#), to: nil, manager: "kubectl", time: Self.t1, schema: .genericObject)
        let error = #expect(throws: KubeModelsError.self) {
            try ServerSideApply.apply(configMap(#"{"a":"2"}"#), to: live, manager: "other", time: Self.t2, schema: .genericObject)
        }
        #expect(error?.code == .applyConflict)
        #expect(error?.message == #"Apply failed with 1 conflict: conflict with "kubectl": .data.a"#)
        let status = try #require(error?.status)
        #expect(status.code == 409)
        #expect(status.reason == .conflict)
        #expect(status.details?.causes == [KubeStatus.Cause(reason: "FieldManagerConflict", message: #"conflict with "kubectl""#, field: ".data.a")])
    }

    @Test func forceMovesOwnership() throws {
        let live = try ServerSideApply.apply(configMap(#"{"a":"1","b":"x"}"#), to: nil, manager: "kubectl", time: Self.t1, schema: .genericObject)
        let forced = try ServerSideApply.apply(
            configMap(#"{"a":"2"}"#), to: live, manager: "other", time: Self.t2, force: true, schema: .genericObject)
        #expect(forced["data"] == json(#"{"a":"2","b":"x"}"#))
        let byManager = Dictionary(uniqueKeysWithValues: try entries(forced).map { ($0.manager, $0.fields) })
        #expect(byManager["other"]?.contains([.field("data"), .field("a")]) == true)
        #expect(byManager["kubectl"]?.contains([.field("data"), .field("a")]) == false)
        #expect(byManager["kubectl"]?.contains([.field("data"), .field("b")]) == true)
    }

    @Test func sameValueIsSharedWithoutConflict() throws {
        let live = try ServerSideApply.apply(configMap(#"{"a":"1"}"#), to: nil, manager: "kubectl", time: Self.t1, schema: .genericObject)
        let shared = try ServerSideApply.apply(configMap(#"{"a":"1"}"#), to: live, manager: "other", time: Self.t2, schema: .genericObject)
        #expect(try entries(shared).filter { $0.fields.contains([.field("data"), .field("a")]) }.count == 2)
    }

    @Test func droppedFieldIsRemovedUnlessSomeoneElseOwnsIt() throws {
        let first = try ServerSideApply.apply(configMap(#"{"a":"1","b":"2","c":"3"}"#), to: nil, manager: "kubectl", time: Self.t1, schema: .genericObject)
        let shared = try ServerSideApply.apply(configMap(#"{"c":"3"}"#, labels: "{}"), to: first, manager: "other", time: Self.t1, schema: .genericObject)
        let second = try ServerSideApply.apply(configMap(#"{"a":"1"}"#), to: shared, manager: "kubectl", time: Self.t2, schema: .genericObject)
        #expect(second["data"] == json(#"{"a":"1","c":"3"}"#))
    }

    @Test func noOpApplyChangesNothing() throws {
        let live = try ServerSideApply.apply(configMap(#"{"a":"1"}"#), to: nil, manager: "kubectl", time: Self.t1, schema: .genericObject)
        let again = try ServerSideApply.apply(configMap(#"{"a":"1"}"#), to: live, manager: "kubectl", time: Self.t2, schema: .genericObject)
        #expect(again == live)
    }

    @Test func keyedListItemsAreOwnedAndPruned() throws {
        func deployment(_ containers: String) -> JSONValue {
            json(#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"template":{"spec":{"containers":\#(containers)}}}}"#)
        }
        let live = try ServerSideApply.apply(
            deployment(#"[{"name":"c1","image":"a"},{"name":"c2","image":"b"}]"#), to: nil, manager: "kubectl", time: Self.t1,
            schema: .deployment)
        let fields = try #require(try entries(live).first?.fields)
        #expect(
            fields.fieldsV1[path: ["f:spec", "f:template", "f:spec", "f:containers", #"k:{"name":"c1"}"#]]
                == json(#"{".":{},"f:image":{},"f:name":{}}"#))
        // Another manager's change to c1 merges into the item instead of replacing the list.
        let other = try ServerSideApply.apply(
            deployment(#"[{"name":"c1","imagePullPolicy":"Always"}]"#), to: live, manager: "other", time: Self.t2, schema: .deployment)
        let containers = other[path: ["spec", "template", "spec", "containers"]]
        #expect(containers == json(#"[{"name":"c1","image":"a","imagePullPolicy":"Always"},{"name":"c2","image":"b"}]"#))
        // Dropping c2 from kubectl's file removes it.
        let pruned = try ServerSideApply.apply(deployment(#"[{"name":"c1","image":"a"}]"#), to: other, manager: "kubectl", time: Self.t2, schema: .deployment)
        #expect(pruned[path: ["spec", "template", "spec", "containers"]] == json(#"[{"name":"c1","image":"a","imagePullPolicy":"Always"}]"#))
    }

    @Test func conflictPathNamesTheListItem() throws {
        let deployment = json(
            #"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d"},"spec":{"template":{"spec":{"containers":[{"name":"c1","image":"a"}]}}}}"#)
        let live = try ServerSideApply.apply(deployment, to: nil, manager: "kubectl", time: Self.t1, schema: .deployment)
        var changed = deployment
        changed[path: ["spec", "template", "spec", "containers"]] = json(#"[{"name":"c1","image":"z"}]"#)
        let error = #expect(throws: KubeModelsError.self) {
            try ServerSideApply.apply(changed, to: live, manager: "other", time: Self.t2, schema: .deployment)
        }
        #expect(error?.causes.first?.field == #".spec.template.spec.containers[name="c1"].image"#)
    }

    @Test func updateEntriesAndConflictWithThem() throws {
        let created = try ServerSideApply.recordUpdate(
            from: nil, to: configMap(#"{"a":"1"}"#), manager: "kubectl-create", time: Self.t1, schema: .genericObject)
        let entry = try #require(try entries(created).first)
        #expect(entry.operation == .update)
        #expect(entry.fields.fieldsV1 == json(#"{"f:data":{".":{},"f:a":{}},"f:metadata":{"f:labels":{".":{},"f:app":{}}}}"#))

        let error = #expect(throws: KubeModelsError.self) {
            try ServerSideApply.apply(configMap(#"{"a":"2"}"#), to: created, manager: "kubectl", time: Self.t2, schema: .genericObject)
        }
        #expect(error?.message == #"Apply failed with 1 conflict: conflict with "kubectl-create" using v1: .data.a"#)

        // An update takes fields from everyone without conflicts.
        let applied = try ServerSideApply.apply(configMap(#"{"b":"1"}"#, labels: "{}"), to: created, manager: "kubectl", time: Self.t2, schema: .genericObject)
        var edited = applied
        edited[path: ["data", "b"]] = "9"
        let updated = try ServerSideApply.recordUpdate(from: applied, to: edited, manager: "kubectl-edit", time: Self.t2, schema: .genericObject)
        let owners = try entries(updated).filter { $0.fields.contains([.field("data"), .field("b")]) }.map(\.manager)
        #expect(owners == ["kubectl-edit"])
        #expect(try entries(updated).map(\.operation) == [.apply, .update, .update])
    }

    @Test func unchangedUpdateKeepsEntries() throws {
        let created = try ServerSideApply.recordUpdate(
            from: nil, to: configMap(#"{"a":"1"}"#), manager: "kubectl-create", time: Self.t1, schema: .genericObject)
        let same = try ServerSideApply.recordUpdate(from: created, to: created, manager: "other", time: Self.t2, schema: .genericObject)
        #expect(same == created)
    }

    @Test func severalConflictsAreListedPerManager() throws {
        let live = try ServerSideApply.apply(configMap(#"{"a":"1","b":"1"}"#), to: nil, manager: "kubectl", time: Self.t1, schema: .genericObject)
        let error = #expect(throws: KubeModelsError.self) {
            try ServerSideApply.apply(configMap(#"{"a":"2","b":"2"}"#), to: live, manager: "other", time: Self.t2, schema: .genericObject)
        }
        #expect(error?.message == "Apply failed with 2 conflicts: conflicts with \"kubectl\":\n- .data.a\n- .data.b")
        #expect(error?.causes.count == 2)
    }

    @Test func setListsOwnValues() {
        let set = ServerSideApply.fieldSet(
            of: json(#"{"metadata":{"name":"x","finalizers":["a/b"]},"spec":{"tolerations":[{"key":"k"}]}}"#), schema: .pod)
        #expect(set.fieldsV1 == json(#"{"f:metadata":{"f:finalizers":{"v:\"a/b\"":{}}},"f:spec":{"f:tolerations":{}}}"#))
    }

    @Test func fieldsV1RoundTripAndPathStrings() throws {
        let text =
            #"{"f:metadata":{"f:finalizers":{".":{},"v:\"x\"":{}}},"f:spec":{"f:ports":{"k:{\"port\":80,\"protocol\":\"TCP\"}":{".":{},"f:port":{}}},"f:list":{"i:0":{}}}}"#
        let set = try FieldSet(fieldsV1: json(text))
        #expect(set.fieldsV1 == json(text))
        #expect(set.paths.count == 5)
        #expect(
            FieldSet.string([.field("spec"), .field("ports"), .key(["port": 80, "protocol": "TCP"]), .field("port")])
                == #".spec.ports[port=80,protocol="TCP"].port"#)
        #expect(FieldSet.string([.field("metadata"), .field("finalizers"), .value("x")]) == #".metadata.finalizers[="x"]"#)
        #expect(throws: KubeModelsError.self) { try FieldSet(fieldsV1: json(#"{"x:bad":{}}"#)) }
    }

    @Test func managerIsRequired() {
        let error = #expect(throws: KubeModelsError.self) {
            try ServerSideApply.apply(configMap("{}"), to: nil, manager: "", time: Self.t1, schema: nil)
        }
        #expect(error?.code == .applyMalformed)
    }
}
