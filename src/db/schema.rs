//! Diesel's view of the tables, shared by SQLite and PostgreSQL (see migrations/).
// Kept in step with migrations/ by hand; every integration test runs both backends through it.

diesel::table! {
    sessions (id) {
        id -> Text,
        started_at -> BigInt,
        last_event_at -> BigInt,
        ended_at -> Nullable<BigInt>,
        url -> Nullable<Text>,
        user_agent -> Nullable<Text>,
        event_count -> BigInt,
        raw_bytes -> BigInt,
        stored_bytes -> BigInt,
        first_event_ts -> Nullable<BigInt>,
        last_seq -> BigInt,
        project_id -> Text,
    }
}

diesel::table! {
    event_chunks (session_id, first_seq) {
        session_id -> Text,
        first_seq -> BigInt,
        last_seq -> BigInt,
        first_ts -> BigInt,
        last_ts -> BigInt,
        event_count -> Integer,
        meta_seq -> Nullable<BigInt>,
        meta_ts -> Nullable<BigInt>,
        raw_len -> Integer,
        data -> Binary,
    }
}

diesel::table! {
    users (username) {
        username -> Text,
        password_hash -> Text,
        role -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    user_sessions (token_hash) {
        token_hash -> Text,
        username -> Text,
        csrf -> Text,
        created_at -> BigInt,
        expires_at -> BigInt,
    }
}

diesel::table! {
    api_tokens (id) {
        id -> Text,
        username -> Text,
        name -> Text,
        token_hash -> Text,
        created_at -> BigInt,
    }
}

diesel::table! {
    projects (id) {
        id -> Text,
        public_key -> Nullable<Text>,
        allowed_origins -> Text,
        retention_days -> Integer,
        created_at -> BigInt,
    }
}

diesel::table! {
    project_members (project_id, username) {
        project_id -> Text,
        username -> Text,
    }
}

diesel::table! {
    session_access (id) {
        id -> Text,
        session_key -> Text,
        project_id -> Text,
        username -> Text,
        kind -> Text,
        at -> BigInt,
    }
}

diesel::joinable!(event_chunks -> sessions (session_id));
diesel::joinable!(project_members -> projects (project_id));
diesel::joinable!(project_members -> users (username));
diesel::joinable!(user_sessions -> users (username));
diesel::joinable!(api_tokens -> users (username));
diesel::allow_tables_to_appear_in_same_query!(
    sessions,
    event_chunks,
    users,
    user_sessions,
    api_tokens,
    projects,
    project_members,
    session_access
);
