//! Code outside the guard crate cannot make a principal: every file under compile_fail/ must
//! fail to compile, with the error committed beside it (`TRYBUILD=overwrite` regenerates them).

#[test]
fn principals_cannot_be_built_outside_the_guard() {
    trybuild::TestCases::new().compile_fail("tests/compile_fail/*.rs");
}
