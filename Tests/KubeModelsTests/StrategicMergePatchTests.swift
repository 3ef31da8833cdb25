import Testing

@testable import KubeModels

@Suite("StrategicMergePatch")
struct StrategicMergePatchTests {
    static let deployment = json(
        #"""
        {"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"d","finalizers":["a","b"]},
         "spec":{"replicas":1,
          "strategy":{"type":"RollingUpdate","rollingUpdate":{"maxSurge":"25%","maxUnavailable":"25%"}},
          "template":{"metadata":{"labels":{"app":"d"}},"spec":{
           "containers":[{"name":"c1","image":"a","env":[{"name":"A","value":"1"},{"name":"B","value":"2"}],
                          "ports":[{"containerPort":80,"name":"http"}],"volumeMounts":[{"mountPath":"/data","name":"v"}]}],
           "tolerations":[{"key":"k1","operator":"Exists"}],
           "volumes":[{"name":"v","emptyDir":{}}]}}}}
        """#)

    func patched(_ patch: String, _ original: JSONValue = deployment, schema: StrategicMergeSchema? = .deployment)
        throws -> JSONValue
    {
        try StrategicMergePatch.apply(json(patch), to: original, schema: schema)
    }

    func containers(_ object: JSONValue) -> [JSONValue] {
        object[path: ["spec", "template", "spec", "containers"]]?.arrayValue ?? []
    }

    func names(_ items: [JSONValue], key: String = "name") -> [String] {
        items.map { $0[key]?.stringValue ?? $0[key]?.jsonText ?? "?" }
    }

    @Test("checklist 25: SMP adds c2 next to c1, merge patch replaces the list")
    func containerListAddVersusReplace() throws {
        let body = #"{"spec":{"template":{"spec":{"containers":[{"name":"c2","image":"x"}]}}}}"#
        let strategic = try patched(body)
        #expect(Set(names(containers(strategic))) == ["c1", "c2"])
        // The apiserver puts items new to the list before the server-only ones.
        #expect(names(containers(strategic)) == ["c2", "c1"])
        #expect(containers(strategic).last?["env"]?.arrayValue?.count == 2)

        let merge = MergePatch.apply(json(body), to: Self.deployment)
        #expect(names(containers(merge)) == ["c2"])
    }

    @Test func changedItemKeepsItsPlace() throws {
        let base = try patched(#"{"spec":{"template":{"spec":{"containers":[{"name":"c0","image":"z"}]}}}}"#)
        #expect(names(containers(base)) == ["c0", "c1"])
        let result = try patched(#"{"spec":{"template":{"spec":{"containers":[{"name":"c1","image":"b"}]}}}}"#, base)
        #expect(names(containers(result)) == ["c0", "c1"])
        #expect(containers(result)[1]["image"] == "b")
        #expect(containers(result)[1]["env"]?.arrayValue?.count == 2)
    }

    @Test func envVarRemovedWithPatchDelete() throws {
        let result = try patched(
            #"{"spec":{"template":{"spec":{"containers":[{"name":"c1","env":[{"name":"A","$patch":"delete"}]}]}}}}"#)
        let env = containers(result).first?["env"]?.arrayValue ?? []
        #expect(names(env) == ["B"])
        #expect(containers(result).first?["image"] == "a")
    }

    @Test func envVarValueMergesOnName() throws {
        let result = try patched(
            #"{"spec":{"template":{"spec":{"containers":[{"name":"c1","env":[{"name":"B","value":"3"},{"name":"C","value":"4"}]}]}}}}"#
        )
        let env = containers(result).first?["env"]?.arrayValue ?? []
        #expect(names(env) == ["A", "B", "C"])
        #expect(env[1]["value"] == "3")
    }

    @Test func setElementOrder() throws {
        let base = try patched(#"{"spec":{"template":{"spec":{"containers":[{"name":"c0","image":"z"}]}}}}"#)
        let result = try patched(
            #"""
            {"spec":{"template":{"spec":{
              "$setElementOrder/containers":[{"name":"c1"},{"name":"c0"},{"name":"c3"}],
              "containers":[{"name":"c3","image":"n"}]}}}}
            """#, base)
        #expect(names(containers(result)) == ["c1", "c0", "c3"])
        #expect(containers(result)[2]["image"] == "n")
    }

    @Test func setElementOrderForPrimitives() throws {
        let result = try patched(#"{"metadata":{"$setElementOrder/finalizers":["b","c","a"],"finalizers":["c"]}}"#)
        #expect(result[path: ["metadata", "finalizers"]] == json(#"["b","c","a"]"#))
    }

    @Test func setElementOrderMustMatchThePatchList() {
        let error = #expect(throws: KubeModelsError.self) {
            try patched(
                #"{"spec":{"template":{"spec":{"$setElementOrder/containers":[{"name":"c1"}],"containers":[{"name":"c9"}]}}}}"#)
        }
        #expect(error?.code == .patchMalformed)
    }

    @Test func deleteFromPrimitiveList() throws {
        let result = try patched(#"{"metadata":{"$deleteFromPrimitiveList/finalizers":["a"]}}"#)
        #expect(result[path: ["metadata", "finalizers"]] == json(#"["b"]"#))
    }

    @Test func primitiveMergeListIsAnOrderedSet() throws {
        #expect(try patched(#"{"metadata":{"finalizers":["b","c"]}}"#)[path: ["metadata", "finalizers"]] == json(#"["a","b","c"]"#))
        #expect(try patched(#"{"metadata":{"finalizers":["z"]}}"#)[path: ["metadata", "finalizers"]] == json(#"["z","a","b"]"#))
    }

    @Test func retainKeysClearsOtherKeys() throws {
        let result = try patched(#"{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate"}}}"#)
        #expect(result[path: ["spec", "strategy"]] == json(#"{"type":"Recreate"}"#))
    }

    @Test func retainKeysOnVolumeSource() throws {
        let result = try patched(
            #"{"spec":{"template":{"spec":{"volumes":[{"name":"v","$retainKeys":["name","configMap"],"configMap":{"name":"cm"}}]}}}}"#)
        #expect(result[path: ["spec", "template", "spec", "volumes"]] == json(#"[{"name":"v","configMap":{"name":"cm"}}]"#))
    }

    @Test func retainKeysMustCoverThePatch() {
        let error = #expect(throws: KubeModelsError.self) {
            try patched(#"{"spec":{"strategy":{"$retainKeys":["type"],"type":"Recreate","rollingUpdate":{}}}}"#)
        }
        #expect(error?.message == "invalid patch format of retainKeys")
        #expect(error?.status.code == 400)
    }

    @Test func replaceDirectiveInList() throws {
        let result = try patched(
            #"{"spec":{"template":{"spec":{"containers":[{"name":"c9","image":"r"},{"$patch":"replace"}]}}}}"#)
        #expect(containers(result) == [json(#"{"name":"c9","image":"r"}"#)])
    }

    @Test func replaceAndDeleteDirectivesInMaps() throws {
        let replaced = try patched(#"{"spec":{"template":{"metadata":{"labels":{"$patch":"replace","new":"1"}}}}}"#)
        #expect(replaced[path: ["spec", "template", "metadata", "labels"]] == json(#"{"new":"1"}"#))
        let deleted = try patched(#"{"spec":{"strategy":{"$patch":"delete"}}}"#)
        #expect(deleted[path: ["spec", "strategy"]] == json("{}"))
        let merged = try patched(#"{"spec":{"template":{"metadata":{"labels":{"$patch":"merge","new":"1"}}}}}"#)
        #expect(merged[path: ["spec", "template", "metadata", "labels"]] == json(#"{"app":"d","new":"1"}"#))
        #expect(throws: KubeModelsError.self) { try patched(#"{"spec":{"$patch":"frob"}}"#) }
    }

    @Test func nullDeletesAKey() throws {
        let result = try patched(#"{"spec":{"replicas":null,"template":{"metadata":{"labels":{"app":null}}}}}"#)
        #expect(result[path: ["spec", "replicas"]] == nil)
        #expect(result[path: ["spec", "template", "metadata", "labels"]] == json("{}"))
    }

    @Test func untaggedListsAreReplaced() throws {
        let result = try patched(#"{"spec":{"template":{"spec":{"tolerations":[{"key":"k2","operator":"Exists"}]}}}}"#)
        #expect(result[path: ["spec", "template", "spec", "tolerations"]] == json(#"[{"key":"k2","operator":"Exists"}]"#))
    }

    @Test func portsMergeOnContainerPortAndMountsOnMountPath() throws {
        let result = try patched(
            #"""
            {"spec":{"template":{"spec":{"containers":[{"name":"c1",
              "ports":[{"containerPort":80,"protocol":"TCP"},{"containerPort":443}],
              "volumeMounts":[{"mountPath":"/data","readOnly":true}]}]}}}}
            """#)
        let c1 = containers(result).first ?? .null
        #expect(c1["ports"] == json(#"[{"containerPort":80,"name":"http","protocol":"TCP"},{"containerPort":443}]"#))
        #expect(c1["volumeMounts"] == json(#"[{"mountPath":"/data","name":"v","readOnly":true}]"#))
    }

    @Test func servicePortsMergeOnPort() throws {
        let service = json(#"{"spec":{"ports":[{"port":80,"targetPort":8080},{"port":443}]}}"#)
        let result = try StrategicMergePatch.apply(
            json(#"{"spec":{"ports":[{"port":80,"targetPort":9090}]}}"#), to: service, schema: .service)
        #expect(result[path: ["spec", "ports"]] == json(#"[{"port":80,"targetPort":9090},{"port":443}]"#))
    }

    @Test func conditionsMergeOnType() throws {
        let pod = json(#"{"status":{"conditions":[{"type":"Ready","status":"False"},{"type":"Initialized","status":"True"}]}}"#)
        let result = try StrategicMergePatch.apply(
            json(#"{"status":{"conditions":[{"type":"Ready","status":"True"}]}}"#), to: pod, schema: .pod)
        #expect(result[path: ["status", "conditions"]] == json(#"[{"type":"Ready","status":"True"},{"type":"Initialized","status":"True"}]"#))
    }

    @Test func ownerReferencesMergeOnUID() throws {
        let object = json(#"{"metadata":{"ownerReferences":[{"uid":"1","name":"a"}]}}"#)
        let result = try StrategicMergePatch.apply(
            json(#"{"metadata":{"ownerReferences":[{"uid":"2","name":"b"}]}}"#), to: object, schema: .genericObject)
        #expect(Set(names(result[path: ["metadata", "ownerReferences"]]?.arrayValue ?? [], key: "uid")) == ["1", "2"])
    }

    @Test func withoutSchemaListsAreReplaced() throws {
        let result = try patched(#"{"spec":{"template":{"spec":{"containers":[{"name":"c2"}]}}}}"#, schema: nil)
        #expect(names(containers(result)) == ["c2"])
    }

    @Test func directivesInNewValuesAreResolved() throws {
        let result = try StrategicMergePatch.apply(
            json(#"{"spec":{"template":{"spec":{"containers":[{"name":"c1","env":[{"name":"X","$patch":"delete"},{"name":"Y","value":"1"}]}]}}}}"#),
            to: json("{}"), schema: .deployment)
        #expect(containers(result).first?["env"] == json(#"[{"name":"Y","value":"1"}]"#))
    }

    @Test func mergeErrors() {
        let listOfLists = #expect(throws: KubeModelsError.self) {
            try StrategicMergePatch.apply(json(#"{"metadata":{"finalizers":[["a"]]}}"#), to: json("{}"), schema: .genericObject)
        }
        #expect(listOfLists?.message == "lists of lists are not supported")
        #expect(listOfLists?.status.code == 422)
        let noKey = #expect(throws: KubeModelsError.self) {
            try patched(#"{"spec":{"template":{"spec":{"containers":[{"image":"x"}]}}}}"#)
        }
        #expect(noKey?.code == .patchNotMergeable)
        #expect(throws: KubeModelsError.self) { try patched("[1]") }
    }

    @Test func builtInSchemas() {
        #expect(StrategicMergeSchema.builtIn(group: "longhorn.io", kind: "Volume") == nil)
        #expect(StrategicMergeSchema.builtIn(group: "apps", kind: "Deployment") == .deployment)
        #expect(StrategicMergeSchema.builtIn(group: "", kind: "ConfigMap") == .genericObject)
        #expect(StrategicMergeSchema.builtIn(group: "batch", kind: "CronJob") != nil)
        let podSpec = StrategicMergeSchema.podSpec
        #expect(podSpec["containers"]?.mergeKey == "name")
        #expect(podSpec["volumes"]?.retainKeys == true)
        #expect(podSpec["tolerations"] == nil)
        #expect(StrategicMergeSchema.container["volumeDevices"]?.mergeKey == "devicePath")
        #expect(StrategicMergeSchema.objectMeta["finalizers"]?.mergesList == true)
        #expect(StrategicMergeSchema.objectMeta["finalizers"]?.mergeKey == nil)
    }
}
