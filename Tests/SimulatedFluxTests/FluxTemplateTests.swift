import Foundation
import KubeModels
import Simulator
import SimulatorTestSupport
import Testing

@testable import SimulatedFlux

/// The ResourceSet templates and postBuild substitution the simulated Flux renders, and the
/// shipped ResourceSet variant of the gate: rendered, it must be the same gate as the plain
/// Kustomizations, and every object must pass Flux's real schemas.
@Suite struct FluxTemplateTests {
    static let root = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    static func documents(_ relative: String) throws -> [JSONValue] {
        try YAMLBody.documents(try String(contentsOf: root.appendingPathComponent(relative), encoding: .utf8)).filter { $0["kind"] != nil }
    }

    /// The served schema of a Flux CRD from the facts-only fixtures (scripts/make-crd-fixtures).
    static func schema(_ file: String, version: String) throws -> JSONValue {
        let url = root.appendingPathComponent("Tests/Fixtures/crds/\(file).json")
        let data = try #require(try? Data(contentsOf: url), "FLUX CRD FIXTURE IS MISSING: \(url.path) (scripts/make-crd-fixtures writes it)")
        let body = try JSONValue(parsing: data)
        let crd = try #require(body["definitions"]?.arrayValue?.first)
        let served = crd[path: ["spec", "versions"]]?.arrayValue?.first { $0["name"]?.stringValue == version }
        return try #require(served?[path: ["schema", "openAPIV3Schema"]])
    }

    static func render(_ template: String, _ inputs: JSONValue) throws -> String {
        try FluxTemplate(template).render(inputs: inputs)
    }

    static func error(_ template: String, _ inputs: JSONValue = [:]) -> String {
        do {
            _ = try render(template, inputs)
            return "no error"
        } catch {
            return "\(error)"
        }
    }

    // MARK: - The shipped ResourceSet

    @Test func theShippedResourceSetRendersTheSameGateAsThePlainKustomizations() throws {
        let set = try #require(try Self.documents("kubernetes/platform/flux/resourceset/platform-kustomizations.yaml").first)
        let rendered = try FluxSimulation.render(set)
        let plain = try Self.documents("kubernetes/platform/flux/longhorn-restore-orchestrator.yaml")
        #expect(rendered.count == plain.count)
        let fields = ["dependsOn", "path", "prune", "wait", "timeout", "sourceRef"]
        for expected in plain {
            let name = try #require(expected[path: ["metadata", "name"]]?.stringValue)
            let got = try #require(rendered.first { $0[path: ["metadata", "name"]]?.stringValue == name }, "\(name) is not rendered")
            #expect(got[path: ["metadata", "namespace"]] == expected[path: ["metadata", "namespace"]])
            for field in fields {
                #expect(
                    got[path: ["spec", field]] == expected[path: ["spec", field]], "\(name).spec.\(field): \(got[path: ["spec", field]]?.jsonText ?? "none")")
            }
        }
        let gate = try #require(rendered.first { $0[path: ["metadata", "name"]] == "longhorn-restore-orchestrator" })
        #expect(gate[path: ["spec", "retryInterval"]] == "2m")
        #expect(gate[path: ["spec", "postBuild", "substituteFrom"]]?.arrayValue?.first?["name"] == "cluster-config")
    }

    @Test func theShippedFluxObjectsPassFluxsSchemas() throws {
        let kustomization = StructuralSchemaValidator(schema: try Self.schema("flux-kustomize.toolkit.fluxcd.io_kustomizations", version: "v1"))
        let resourceSet = StructuralSchemaValidator(schema: try Self.schema("flux-fluxcd.controlplane.io_resourcesets", version: "v1"))
        let set = try #require(try Self.documents("kubernetes/platform/flux/resourceset/platform-kustomizations.yaml").first)
        #expect(resourceSet.problems(in: set, apiVersion: "fluxcd.controlplane.io/v1", kind: "ResourceSet") == [])
        for object in try FluxSimulation.render(set) + Self.documents("kubernetes/platform/flux/longhorn-restore-orchestrator.yaml") {
            let problems = kustomization.problems(in: object, apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "Kustomization")
            #expect(problems == [], "\(object[path: ["metadata", "name"]]?.stringValue ?? ""): \(problems)")
        }
        // Not vacuous: a field Flux does not have is refused.
        var wrong = try #require(try FluxSimulation.render(set).first)
        wrong[path: ["spec", "waitFor"]] = true
        #expect(kustomization.problems(in: wrong, apiVersion: "kustomize.toolkit.fluxcd.io/v1", kind: "Kustomization") == ["spec.waitFor: unknown field"])
        let config = try #require(try Self.documents("kubernetes/platform/flux/cluster-config.yaml").first)
        #expect(config[path: ["metadata", "namespace"]] == "flux-system")
        #expect(config[path: ["data", "skip_backup_restore"]] == "false", "values are strings, exactly \"true\" or \"false\"")
    }

    // MARK: - Templates

    @Test func rendersFieldsListsConditionsAndTrimMarkers() throws {
        let template = """
            name: << inputs.name >>
            spec:
              <<- if inputs.deps >>
              deps:
                <<- range $i, $d := inputs.deps >>
                - << $i >>: << $d | quote >>
                <<- end >>
              <<- else >>
              deps: none
              <<- end >>
              size: << inputs.size | default 3 >>
              joined: << join "," inputs.deps >>
              nested: << inputs.provider.namespace | upper >>
            """
        let inputs: JSONValue = ["name": "a", "deps": ["x", "y"], "provider": ["namespace": "flux-system"]]
        #expect(
            try Self.render(template, inputs) == """
                name: a
                spec:
                  deps:
                    - 0: "x"
                    - 1: "y"
                  size: 3
                  joined: x,y
                  nested: FLUX-SYSTEM
                """)
        let empty = try Self.render(template, ["name": "b", "deps": [], "size": 5, "provider": ["namespace": "n"]])
        #expect(empty.contains("spec:\n  deps: none\n  size: 5\n  joined: \n"), "\(empty)")
        #expect(try Self.render("<<- range $k, $v := inputs.m >><< $k >>=<< $v >>;<< end >>", ["m": ["b": 2, "a": 1]]) == "a=1;b=2;")
        #expect(try Self.render("<< if eq inputs.a \"x\" >>yes<< else if inputs.b >>b<< else >>no<< end >>", ["a": "z", "b": true]) == "b")
        #expect(try Self.render("<< if not inputs.off >>on<< end >>", [:]) == "on")
        #expect(try Self.render("<< \"a >> b\" >>", [:]) == "a >> b")
    }

    @Test func whatItCannotRenderIsAnErrorNotWrongYAML() {
        #expect(Self.error("x: << inputs.missing >>").contains("has no value"))
        #expect(Self.error("x: << inputs.list >>", ["list": [1]]).contains("is a list"))
        #expect(Self.error("<< inputs.a | toYaml >>", ["a": "b"]).contains("\"toYaml\" is not a function"))
        #expect(Self.error("<< with inputs.a >>x<< end >>").contains("not supported"))
        #expect(Self.error("<< if inputs.a >>x").contains("missing <<end>>"))
        #expect(Self.error("x: << inputs.a").contains("unclosed action"))
        #expect(Self.error("<< end >>").contains("unexpected <<end>>"))
        #expect(Self.error("<< $nope >>").contains("undefined variable"))
        #expect(Self.error("<< default \"a\" >>").contains("takes 2 argument"))
    }

    @Test func aResourceSetWithoutInputsRendersOnceAndDuplicatesAreRefused() throws {
        let set: JSONValue = [
            "metadata": ["name": "s", "namespace": "flux-system"],
            "spec": [
                "resources": [["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "from-<< inputs.provider.name >>", "namespace": "default"]]],
                "commonMetadata": ["labels": ["team": "platform"]],
            ],
        ]
        let objects = try FluxSimulation.render(set)
        #expect(objects.count == 1)
        #expect(objects.first?[path: ["metadata", "name"]] == "from-s")
        #expect(objects.first?[path: ["metadata", "labels", "team"]] == "platform")
        var twice = set
        twice[path: ["spec", "inputs"]] = [["name": "a"], ["name": "b"]]
        #expect(throws: FluxSimulation.Failure.self) { try FluxSimulation.render(twice) }
    }

    // MARK: - postBuild substitution

    @Test func substitutesLikeKustomizeController() throws {
        let substitution = PostBuildSubstitution(variables: ["cluster": "dev", "empty": ""])
        #expect(try substitution.substitute("name-${cluster}") == "name-dev")
        #expect(try substitution.substitute("${missing:=fallback} ${empty:=e} ${empty=kept}") == "fallback e ")
        #expect(try substitution.substitute("${missing:-x}${missing-y}") == "xy")
        #expect(try substitution.substitute("$${cluster} and $cluster stay") == "${cluster} and $cluster stay")
        #expect(throws: PostBuildSubstitution.Failure(message: "envsubst error: variable not set (strict mode): \"missing\"")) {
            try substitution.substitute("${missing}")
        }
        let objects: [JSONValue] = [
            ["kind": "ConfigMap", "metadata": ["name": "a"], "data": ["c": "${cluster}", "list": ["${cluster}"]]],
            [
                "kind": "ConfigMap", "metadata": ["name": "b", "annotations": ["kustomize.toolkit.fluxcd.io/substitute": "disabled"]],
                "data": ["c": "${cluster}"],
            ],
        ]
        let done = try substitution.apply(to: objects)
        #expect(done[0][path: ["data", "c"]] == "dev")
        #expect(done[0][path: ["data", "list"]] == ["dev"])
        #expect(done[1][path: ["data", "c"]] == "${cluster}", "opted out")
        // WithVariables (the default): no variables at all, nothing is substituted, nothing fails.
        let none = PostBuildSubstitution(variables: [:])
        #expect(try none.apply(to: [["data": ["c": "${unset}"]]]) == [["data": ["c": "${unset}"]]])
        #expect(throws: PostBuildSubstitution.Failure.self) { try PostBuildSubstitution(variables: [:], always: true).apply(to: [["data": ["c": "${unset}"]]]) }
    }
}
