import Foundation
import KubeModels
import Testing

@testable import Simulator

/// Protobuf request bodies, as kubectl 1.37's generators send them (`kubectl create namespace n1`,
/// ...). The hex fixtures are request bodies captured from kubectl itself; `scripts/conformance`
/// runs the same commands live.
@Suite struct KubeProtobufTests {
    static let namespace = "6b3873000a0f0a02763112094e616d657370616365121a0a120a026e3112001a0022002a0032003800420012001a020a001a002200"
    static let configMap = "6b3873000a0f0a0276311209436f6e6669674d617012260a120a02633112001a0022002a0032003800420012060a016112016212080a026b32120276321a002200"
    static let secret = "6b3873000a0c0a027631120653656372657412240a120a02733112001a0022002a00320038004200120c0a02707712067365637265741a001a002200"
    static let deployment = """
        6b3873000a150a07617070732f7631120a4465706c6f796d656e7412cb010a1d0a02643112001a0022002a003200380042005a090a036170701202643112\
        9b010802120b0a090a03617070120264311a81010a1b0a0012001a0022002a003200380042005a090a0361707012026431126212440a0762757379626f78\
        120c62757379626f783a312e33371a05736c6565701a033130302a00320b0a00100018903f22002a0042006a007200800100880100900100a201001a0032\
        0042004a0052005800600068008201008a01009a0100c2010022020a00280038001a0c0800100018002000280038001a002200
        """
    static let job = """
        6b3873000a0f0a0862617463682f763112034a6f621284010a120a026a3112001a0022002a00320038004200126432620a100a0012001a0022002a003200\
        38004200124e122b0a026a31120762757379626f781a046563686f1a0268692a0042006a007200800100880100900100a201001a054e65766572320042004a\
        0052005800600068008201008a01009a0100c201001a082000280030003a001a002200
        """
    static let roleBinding = """
        6b3873000a2b0a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f7631120b526f6c6542696e64696e6712b1010a130a03726231120\
        01a0022002a0032003800420012280a04557365721219726261632e617574686f72697a6174696f6e2e6b38732e696f1a03626f62220012270a0547726f\
        75701219726261632e617574686f72697a6174696f6e2e6b38732e696f1a0167220012200a0e536572766963654163636f756e7412001a037361312207\
        64656661756c741a250a19726261632e617574686f72697a6174696f6e2e6b38732e696f1204526f6c651a0272311a002200
        """
    static let aggregatedClusterRole = """
        6b3873000a2b0a1c726261632e617574686f72697a6174696f6e2e6b38732e696f2f7631120b436c7573746572526f6c6512210a130a036167671200\
        1a0022002a003200380042001a0a0a080a060a01611201621a002200
        """

    static func bytes(_ hex: String) -> Data {
        let digits = Array(hex.filter(\.isHexDigit))
        return Data(stride(from: 0, to: digits.count, by: 2).map { UInt8(String(digits[$0...$0 + 1]), radix: 16)! })
    }

    @Test func namespaceConfigMapAndSecretDecodeExactly() throws {
        #expect(try KubeProtobuf.decode(Self.bytes(Self.namespace)) == ["apiVersion": "v1", "kind": "Namespace", "metadata": ["name": "n1"]])
        #expect(
            try KubeProtobuf.decode(Self.bytes(Self.configMap))
                == ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "c1"], "data": ["a": "b", "k2": "v2"]])
        // Secret data is bytes on the wire and base64 in JSON.
        #expect(
            try KubeProtobuf.decode(Self.bytes(Self.secret))
                == ["apiVersion": "v1", "kind": "Secret", "metadata": ["name": "s1"], "data": ["pw": "c2VjcmV0"]])
    }

    @Test func deploymentKeepsItsPodTemplateAndPointerFields() throws {
        let object = try KubeProtobuf.decode(Self.bytes(Self.deployment))
        #expect(object["apiVersion"] == "apps/v1")
        #expect(object[path: ["metadata", "labels"]] == ["app": "d1"])
        #expect(object[path: ["spec", "replicas"]] == 2)
        #expect(object[path: ["spec", "selector"]] == ["matchLabels": ["app": "d1"]])
        let container = object[path: ["spec", "template", "spec", "containers"]]?.arrayValue?.first
        #expect(container == ["name": "busybox", "image": "busybox:1.37", "command": ["sleep", "100"], "ports": [["containerPort": 8080]]])
        // Zero-valued non-pointer fields (status counters, empty strategy) are left out, as in JSON.
        #expect(object["status"] == nil)
        #expect(object[path: ["spec", "paused"]] == nil)
    }

    @Test func jobAndRBACKinds() throws {
        let job = try KubeProtobuf.decode(Self.bytes(Self.job))
        #expect(job[path: ["spec", "template", "spec", "restartPolicy"]] == "Never")
        #expect(job[path: ["spec", "template", "spec", "containers"]] == [["name": "j1", "image": "busybox", "command": ["echo", "hi"]]])
        let binding = try KubeProtobuf.decode(Self.bytes(Self.roleBinding))
        #expect(
            binding["subjects"] == [
                ["kind": "User", "apiGroup": "rbac.authorization.k8s.io", "name": "bob"],
                ["kind": "Group", "apiGroup": "rbac.authorization.k8s.io", "name": "g"],
                ["kind": "ServiceAccount", "name": "sa1", "namespace": "default"],
            ])
        #expect(binding["roleRef"] == ["apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "r1"])
        let role = try KubeProtobuf.decode(Self.bytes(Self.aggregatedClusterRole))
        #expect(role["aggregationRule"] == ["clusterRoleSelectors": [["matchLabels": ["a": "b"]]]])
    }

    // MARK: what must be refused, never half-read

    /// A protobuf message: (field, wire payload) pairs, length-delimited unless given as a varint.
    enum Part {
        case bytes(Int, [UInt8])
        case varint(Int, UInt64)
    }
    static func message(_ parts: [Part]) -> [UInt8] {
        func varint(_ value: UInt64) -> [UInt8] {
            var value = value
            var out: [UInt8] = []
            while value >= 0x80 {
                out.append(UInt8(value & 0x7f) | 0x80)
                value >>= 7
            }
            return out + [UInt8(value)]
        }
        return parts.flatMap { part -> [UInt8] in
            switch part {
            case .bytes(let field, let payload): varint(UInt64(field << 3 | 2)) + varint(UInt64(payload.count)) + payload
            case .varint(let field, let value): varint(UInt64(field << 3)) + varint(value)
            }
        }
    }
    static func envelope(apiVersion: String, kind: String, object: [Part]) -> Data {
        Data(
            KubeProtobuf.magic
                + message([
                    .bytes(1, message([.bytes(1, Array(apiVersion.utf8)), .bytes(2, Array(kind.utf8))])),
                    .bytes(2, message(object)),
                ]))
    }

    @Test func anUnknownFieldWithAValueIsRefusedNamingIt() throws {
        let body = Self.envelope(
            apiVersion: "v1", kind: "ConfigMap",
            object: [
                .bytes(1, Self.message([.bytes(1, Array("c1".utf8))])), .bytes(99, Array("surprise".utf8)),
            ])
        #expect { try KubeProtobuf.decode(body) } throws: { "\($0)".contains("field 99 of ConfigMap") }
    }

    @Test func anUnknownFieldHoldingOnlyZeroValuesIsSkipped() throws {
        let body = Self.envelope(
            apiVersion: "v1", kind: "ConfigMap",
            object: [
                .bytes(1, Self.message([.bytes(1, Array("c1".utf8))])), .bytes(99, Self.message([.varint(1, 0), .bytes(2, [])])), .varint(98, 0),
            ])
        #expect(try KubeProtobuf.decode(body) == ["apiVersion": "v1", "kind": "ConfigMap", "metadata": ["name": "c1"]])
    }

    @Test func pointerZeroesSurviveAndNegativeIntsKeepTheirSign() throws {
        let body = Self.envelope(
            apiVersion: "apps/v1", kind: "Deployment",
            object: [
                .bytes(2, Self.message([.varint(1, 0), .varint(6, UInt64(bitPattern: -1)), .varint(7, 0)]))
            ])
        let object = try KubeProtobuf.decode(body)
        #expect(object[path: ["spec", "replicas"]] == 0)
        #expect(object[path: ["spec", "revisionHistoryLimit"]] == -1)
        #expect(object[path: ["spec", "paused"]] == nil)
    }

    @Test(arguments: [
        ("no magic", Data("{\"kind\":\"ConfigMap\"}".utf8), "magic"),
        ("truncated", KubeProtobufTests.bytes(KubeProtobufTests.configMap).dropLast(5), "malformed"),
        ("unknown kind", KubeProtobufTests.envelope(apiVersion: "v1", kind: "Service", object: []), "v1 Service are not decoded"),
    ])
    func brokenOrUnknownBodiesAreRefused(_ name: String, _ body: Data, _ expected: String) {
        #expect(throws: KubeProtobuf.Failure.self, "\(name)") { try KubeProtobuf.decode(body) }
        do { _ = try KubeProtobuf.decode(body) } catch { #expect(error.description.contains(expected), "\(name): \(error)") }
    }

    @Test func everyMessageTheSchemaNamesIsInTheSchema() {
        for (type, fields) in KubeProtobufSchema.messages {
            for field in fields.values {
                if case .message(let nested) = field.kind {
                    #expect(KubeProtobufSchema.messages[nested] != nil, "\(type).\(field.name) names \(nested)")
                }
            }
        }
        for message in KubeProtobufSchema.kinds.values { #expect(KubeProtobufSchema.messages[message] != nil, "\(message)") }
    }

    @Test func theAPIHandlerStoresWhatAProtobufCreateCarries() async throws {
        let cluster = await SimulatedCluster()
        let response = await cluster.handler.handle(
            APIRequest(
                method: "POST", path: "/api/v1/namespaces/default/secrets", query: APIRequest.parseQuery("fieldManager=kubectl-create"),
                headers: ["content-type": "application/vnd.kubernetes.protobuf", "accept": "application/vnd.kubernetes.protobuf, */*"],
                body: Self.bytes(Self.secret)))
        #expect(response.status == 201)
        let stored = try JSONValue(parsing: await response.collect())
        #expect(stored["data"] == ["pw": "c2VjcmV0"])
        #expect(stored[path: ["metadata", "uid"]] != nil)

        let refused = await cluster.handler.handle(
            APIRequest(
                method: "POST", path: "/api/v1/namespaces/default/configmaps", query: [:],
                headers: ["content-type": "application/vnd.kubernetes.protobuf"], body: Self.bytes(Self.configMap).dropLast(5)))
        #expect(refused.status == 415)
        let status = try JSONValue(parsing: await refused.collect())
        #expect(status["reason"] == "UnsupportedMediaType")
    }

    /// kubectl validates `kind: List` files with OpenAPI v2, which it reads as protobuf only.
    @Test func openAPIv2IsAnEmptySwagger2DocumentInProtobuf() async throws {
        let cluster = await SimulatedCluster()
        let response = await cluster.handler.handle(
            APIRequest(
                method: "GET", path: "/openapi/v2", query: [:],
                headers: ["accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"]))
        #expect(response.status == 200)
        var reader = ProtobufReader(ArraySlice(await response.collect()))
        let first = try reader.next()
        #expect(first?.field == 1)
        #expect(first?.value == .bytes(ArraySlice("2.0".utf8)))
        #expect(try reader.next() == nil)
    }
}
