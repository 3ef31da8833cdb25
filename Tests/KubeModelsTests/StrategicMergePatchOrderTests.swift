import Testing

@testable import KubeModels

/// Ordering cases from the upstream strategic-merge-patch test suite (inputs and expected
/// outputs only), run against a schema with one keyed list and one primitive merge list.
@Suite("StrategicMergePatch ordering")
struct StrategicMergePatchOrderTests {
    static let schema = StrategicMergeSchema(fields: [
        "mergingList": .mergeList(on: "name"),
        "mergingIntList": .mergePrimitives,
    ])

    struct Case: Sendable, CustomTestStringConvertible {
        let name: String
        let original: String
        let patch: String
        let result: String
        var testDescription: String { name }
    }

    static let cases: [Case] = [
        Case(
            name: "patch order wins for items it names",
            original: #"{"mergingList":[{"name":1},{"name":2,"value":"b"},{"name":3}]}"#,
            patch: #"{"mergingList":[{"name":3,"value":"c"},{"name":1,"value":"a"},{"name":2,"other":"x"}]}"#,
            result: #"{"mergingList":[{"name":3,"value":"c"},{"name":1,"value":"a"},{"name":2,"value":"b","other":"x"}]}"#),
        Case(
            name: "server-only item keeps its place before later patch items",
            original: #"{"mergingList":[{"name":1},{"name":2,"value":"b"},{"name":3}]}"#,
            patch: #"{"mergingList":[{"name":3,"value":"c"},{"name":1,"value":"a"}]}"#,
            result: #"{"mergingList":[{"name":2,"value":"b"},{"name":3,"value":"c"},{"name":1,"value":"a"}]}"#),
        Case(
            name: "primitive list follows the patch order",
            original: #"{"mergingIntList":[1,2,3]}"#, patch: #"{"mergingIntList":[3,1,2]}"#,
            result: #"{"mergingIntList":[3,1,2]}"#),
        Case(
            name: "primitive list with a server-only value",
            original: #"{"mergingIntList":[1,2,3]}"#, patch: #"{"mergingIntList":[3,1]}"#,
            result: #"{"mergingIntList":[2,3,1]}"#),
        Case(
            name: "add a primitive with $setElementOrder next to a server-only value",
            original: #"{"mergingIntList":[1,4,2]}"#,
            patch: #"{"$setElementOrder/mergingIntList":[3,1,2],"mergingIntList":[3]}"#,
            result: #"{"mergingIntList":[3,1,4,2]}"#),
        Case(
            name: "delete a primitive and reorder",
            original: #"{"mergingIntList":[1,2,3]}"#,
            patch: #"{"$setElementOrder/mergingIntList":[2,1],"$deleteFromPrimitiveList/mergingIntList":[3]}"#,
            result: #"{"mergingIntList":[2,1]}"#),
        Case(
            name: "add an item with $setElementOrder",
            original: #"{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"}]}"#,
            patch: #"{"$setElementOrder/mergingList":[{"name":3},{"name":1},{"name":2}],"mergingList":[{"name":3,"value":3}]}"#,
            result: #"{"mergingList":[{"name":3,"value":3},{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"}]}"#),
        Case(
            name: "add several items with $setElementOrder",
            original: #"{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"}]}"#,
            patch:
                #"{"$setElementOrder/mergingList":[{"name":1},{"name":4},{"name":2},{"name":3}],"mergingList":[{"name":4,"value":4},{"name":3,"value":3}]}"#,
            result:
                #"{"mergingList":[{"name":1,"other":"a"},{"name":4,"value":4},{"name":2,"value":2,"other":"b"},{"name":3,"value":3}]}"#),
        Case(
            name: "delete an item with $setElementOrder",
            original: #"{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"},{"name":3,"value":3}]}"#,
            patch: #"{"$setElementOrder/mergingList":[{"name":2},{"name":1}],"mergingList":[{"name":3,"$patch":"delete"}]}"#,
            result: #"{"mergingList":[{"name":2,"value":2,"other":"b"},{"name":1,"other":"a"}]}"#),
        Case(
            name: "change an item with $setElementOrder",
            original: #"{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"},{"name":3,"value":3}]}"#,
            patch: #"{"$setElementOrder/mergingList":[{"name":2},{"name":3},{"name":1}],"mergingList":[{"name":3,"value":"x"}]}"#,
            result: #"{"mergingList":[{"name":2,"value":2,"other":"b"},{"name":3,"value":"x"},{"name":1,"other":"a"}]}"#),
        Case(
            name: "add and delete items with $setElementOrder",
            original: #"{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2,"other":"b"},{"name":3,"value":3}]}"#,
            patch:
                #"{"$setElementOrder/mergingList":[{"name":4},{"name":2},{"name":1}],"mergingList":[{"name":4,"value":4},{"name":3,"$patch":"delete"}]}"#,
            result: #"{"mergingList":[{"name":4,"value":4},{"name":2,"value":2,"other":"b"},{"name":1,"other":"a"}]}"#),
        Case(
            name: "only $setElementOrder",
            original: #"{"mergingList":[{"name":1,"other":"a"},{"name":3,"value":3},{"name":4,"value":4},{"name":2,"value":2}]}"#,
            patch: #"{"$setElementOrder/mergingList":[{"name":4},{"name":2},{"name":3},{"name":1}]}"#,
            result: #"{"mergingList":[{"name":4,"value":4},{"name":2,"value":2},{"name":3,"value":3},{"name":1,"other":"a"}]}"#),
        Case(
            name: "$setElementOrder with a server-only item at the end",
            original: #"{"mergingList":[{"name":1,"other":"a"},{"name":3,"value":3},{"name":4,"value":4},{"name":2,"value":2},{"name":9}]}"#,
            patch: #"{"$setElementOrder/mergingList":[{"name":4},{"name":2},{"name":3},{"name":1}]}"#,
            result:
                #"{"mergingList":[{"name":4,"value":4},{"name":2,"value":2},{"name":3,"value":3},{"name":1,"other":"a"},{"name":9}]}"#),
        Case(
            name: "$setElementOrder with a server-only item in the middle",
            original: #"{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2},{"name":9},{"name":3,"value":3},{"name":4,"value":4}]}"#,
            patch: #"{"$setElementOrder/mergingList":[{"name":2},{"name":1},{"name":4},{"name":3}]}"#,
            result:
                #"{"mergingList":[{"name":2,"value":2},{"name":1,"other":"a"},{"name":9},{"name":4,"value":4},{"name":3,"value":3}]}"#),
        Case(
            name: "$setElementOrder with several server-only items",
            original:
                #"{"mergingList":[{"name":1,"other":"a"},{"name":2,"value":2},{"name":7},{"name":9},{"name":8},{"name":3,"value":3},{"name":4,"value":4}]}"#,
            patch: #"{"$setElementOrder/mergingList":[{"name":2},{"name":1},{"name":4},{"name":3}]}"#,
            result:
                #"{"mergingList":[{"name":2,"value":2},{"name":1,"other":"a"},{"name":7},{"name":9},{"name":8},{"name":4,"value":4},{"name":3,"value":3}]}"#),
    ]

    @Test("matches the upstream ordering", arguments: cases)
    func ordering(_ testCase: Case) throws {
        let result = try StrategicMergePatch.apply(json(testCase.patch), to: json(testCase.original), schema: Self.schema)
        #expect(result == json(testCase.result))
    }
}
