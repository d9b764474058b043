use chrono::{DateTime, TimeZone, Utc};
use cqrs_es::test::TestFramework;
use cqrs_es::{Aggregate, DomainEvent};

use super::*;
use crate::{Email, PasswordHash, Refusal, Role, RuleViolation, UserId};

type UserTest = TestFramework<User>;

fn at() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2024, 5, 1, 12, 0, 0).unwrap()
}

fn user_id() -> UserId {
    "0190a5b2-7c3e-7d4f-8a6b-000000000001".parse().unwrap()
}

fn email() -> Email {
    Email::parse("ada@example.com").unwrap()
}

fn hash(raw: &str) -> PasswordHash {
    PasswordHash::new(raw.to_owned())
}

fn register(name: &str) -> UserCommand {
    UserCommand::Register {
        user_id: user_id(),
        email: email(),
        name: name.to_owned(),
        password_hash: hash("$argon2id$one"),
        role: Role::Customer,
        at: at(),
    }
}

fn registered() -> UserEvent {
    UserEvent::UserRegistered {
        user_id: user_id(),
        email: email(),
        name: "Ada Lovelace".to_owned(),
        password_hash: hash("$argon2id$one"),
        role: Role::Customer,
        registered_at: at(),
    }
}

fn rename(name: &str) -> UserCommand {
    UserCommand::Rename {
        name: name.to_owned(),
        at: at(),
    }
}

#[test]
fn it_should_register_a_new_user() {
    UserTest::with(())
        .given_no_previous_events()
        .when(register("Ada Lovelace"))
        .then_expect_events(vec![registered()]);
}

#[test]
fn it_should_trim_the_name_when_registering() {
    UserTest::with(())
        .given_no_previous_events()
        .when(register("  Ada Lovelace  "))
        .then_expect_events(vec![registered()]);
}

#[test]
fn it_should_refuse_to_register_a_user_twice() {
    UserTest::with(())
        .given(vec![registered()])
        .when(register("Ada Lovelace"))
        .then_expect_error(UserError::AlreadyRegistered);
}

#[test]
fn it_should_refuse_to_register_a_user_with_an_empty_name() {
    UserTest::with(())
        .given_no_previous_events()
        .when(register("   "))
        .then_expect_error(UserError::EmptyName);
}

#[test]
fn it_should_refuse_to_register_a_user_with_a_name_longer_than_200_characters() {
    UserTest::with(())
        .given_no_previous_events()
        .when(register(&"a".repeat(MAX_NAME_CHARS + 1)))
        .then_expect_error(UserError::NameTooLong);
}

#[test]
fn it_should_rename_a_registered_user() {
    UserTest::with(())
        .given(vec![registered()])
        .when(rename(" Countess of Lovelace "))
        .then_expect_events(vec![UserEvent::UserRenamed {
            name: "Countess of Lovelace".to_owned(),
            renamed_at: at(),
        }]);
}

#[test]
fn it_should_record_nothing_when_renaming_to_the_current_name() {
    UserTest::with(())
        .given(vec![registered()])
        .when(rename("Ada Lovelace"))
        .then_expect_events(vec![]);
}

#[test]
fn it_should_refuse_to_rename_a_user_that_is_not_registered() {
    UserTest::with(())
        .given_no_previous_events()
        .when(rename("Ada"))
        .then_expect_error(UserError::NotRegistered);
}

#[test]
fn it_should_refuse_to_rename_a_user_to_an_empty_name() {
    UserTest::with(())
        .given(vec![registered()])
        .when(rename(""))
        .then_expect_error(UserError::EmptyName);
}

#[test]
fn it_should_refuse_to_rename_a_user_to_a_name_that_is_too_long() {
    UserTest::with(())
        .given(vec![registered()])
        .when(rename(&"a".repeat(MAX_NAME_CHARS + 1)))
        .then_expect_error(UserError::NameTooLong);
}

#[test]
fn it_should_change_the_password_of_a_registered_user() {
    UserTest::with(())
        .given(vec![registered()])
        .when(UserCommand::ChangePassword {
            password_hash: hash("$argon2id$two"),
            at: at(),
        })
        .then_expect_events(vec![UserEvent::PasswordChanged {
            password_hash: hash("$argon2id$two"),
            changed_at: at(),
        }]);
}

#[test]
fn it_should_refuse_to_change_the_password_of_a_user_that_is_not_registered() {
    UserTest::with(())
        .given_no_previous_events()
        .when(UserCommand::ChangePassword {
            password_hash: hash("$argon2id$two"),
            at: at(),
        })
        .then_expect_error(UserError::NotRegistered);
}

#[test]
fn a_registered_user_exposes_what_login_and_profile_need() {
    let mut user = User::default();
    user.apply(registered());
    user.apply(UserEvent::PasswordChanged {
        password_hash: hash("$argon2id$two"),
        changed_at: at(),
    });
    assert!(user.is_registered());
    assert_eq!(user.id(), Some(user_id()));
    assert_eq!(user.email(), Some(&email()));
    assert_eq!(user.name(), Some("Ada Lovelace"));
    assert_eq!(user.role(), Some(Role::Customer));
    assert_eq!(user.password_hash(), Some(&hash("$argon2id$two")));
    assert_eq!(user.registered_at(), Some(at()));
}

#[test]
fn a_user_snapshot_round_trips_through_json_without_leaking_the_hash_in_debug() {
    let mut user = User::default();
    user.apply(registered());
    let json = serde_json::to_string(&user).unwrap();
    assert_eq!(serde_json::from_str::<User>(&json).unwrap(), user);
    assert!(!format!("{user:?}").contains("$argon2id"));
}

#[test]
fn events_are_named_after_their_variant_at_version_one() {
    let events = [
        (registered(), "UserRegistered"),
        (
            UserEvent::UserRenamed {
                name: "A".into(),
                renamed_at: at(),
            },
            "UserRenamed",
        ),
        (
            UserEvent::PasswordChanged {
                password_hash: hash("x"),
                changed_at: at(),
            },
            "PasswordChanged",
        ),
    ];
    for (event, name) in events {
        assert_eq!(event.event_type(), name);
        assert_eq!(event.event_version(), "1.0");
        let json = serde_json::to_string(&event).unwrap();
        assert_eq!(serde_json::from_str::<UserEvent>(&json).unwrap(), event);
    }
}

#[test]
fn errors_say_how_to_refuse() {
    assert_eq!(UserError::AlreadyRegistered.refusal(), Refusal::Conflict);
    assert_eq!(UserError::NotRegistered.refusal(), Refusal::NotFound);
    assert_eq!(UserError::EmptyName.refusal(), Refusal::Rule);
    assert_eq!(UserError::NameTooLong.code().as_str(), "name_too_long");
    assert_eq!(
        UserError::NameTooLong.to_string(),
        "a name can be at most 200 characters"
    );
}
