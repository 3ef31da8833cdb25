import KubeClient
import KubeModels

/// The Flux CustomResourceDefinitions the simulated Flux installs: names, scope, short names,
/// printer columns and the status subresource as Flux ships them. Field schemas are left open
/// (as for the simulated Longhorn); the tests check our manifests against Flux's real schemas.
enum FluxCRDs {
    struct Definition: Sendable {
        var group: String
        var version: String
        var plural: String
        var kind: String
        var shortNames: [String]
    }

    static let kustomization = Definition(
        group: "kustomize.toolkit.fluxcd.io", version: "v1", plural: "kustomizations", kind: "Kustomization", shortNames: ["ks"])
    static let gitRepository = Definition(
        group: "source.toolkit.fluxcd.io", version: "v1", plural: "gitrepositories", kind: "GitRepository", shortNames: ["gitrepo"])
    static let helmRelease = Definition(group: "helm.toolkit.fluxcd.io", version: "v2", plural: "helmreleases", kind: "HelmRelease", shortNames: ["hr"])
    static let resourceSet = Definition(
        group: "fluxcd.controlplane.io", version: "v1", plural: "resourcesets", kind: "ResourceSet", shortNames: ["rset"])
    static let all = [kustomization, gitRepository, helmRelease, resourceSet]

    static func resource(_ definition: Definition) -> GroupVersionResource {
        GroupVersionResource(group: definition.group, version: definition.version, resource: definition.plural, namespaced: true)
    }

    static func crd(_ definition: Definition) -> JSONValue {
        let columns: [JSONValue] = [
            ["name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"],
            ["name": "Ready", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].status"],
            ["name": "Status", "type": "string", "jsonPath": ".status.conditions[?(@.type==\"Ready\")].message"],
        ]
        return [
            "apiVersion": "apiextensions.k8s.io/v1", "kind": "CustomResourceDefinition",
            "metadata": ["name": .string("\(definition.plural).\(definition.group)"), "labels": ["app.kubernetes.io/part-of": "flux"]],
            "spec": [
                "group": .string(definition.group), "scope": "Namespaced",
                "names": [
                    "plural": .string(definition.plural), "singular": .string(definition.kind.lowercased()), "kind": .string(definition.kind),
                    "listKind": .string("\(definition.kind)List"), "shortNames": .array(definition.shortNames.map { .string($0) }),
                ],
                "versions": [
                    [
                        "name": .string(definition.version), "served": true, "storage": true,
                        "schema": ["openAPIV3Schema": ["type": "object", "x-kubernetes-preserve-unknown-fields": true]],
                        "subresources": ["status": [:]], "additionalPrinterColumns": .array(columns),
                    ]
                ],
            ],
        ]
    }
}
