-- the tables `create_all` made at bb23dac (sqlite); see make_schemas.py
CREATE TABLE dataset (
	id INTEGER NOT NULL, 
	team_id VARCHAR(32) NOT NULL, 
	owner_user_id VARCHAR(32) NOT NULL, 
	channel_id VARCHAR(32), 
	name VARCHAR(80) NOT NULL, 
	file_name VARCHAR(255) NOT NULL, 
	format VARCHAR(16) NOT NULL, 
	example_count INTEGER NOT NULL, 
	sha256 VARCHAR(64) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (id), 
	CONSTRAINT uq_dataset_team_name UNIQUE (team_id, name), 
	CONSTRAINT uq_dataset_team_sha256 UNIQUE (team_id, sha256)
);
CREATE INDEX ix_dataset_owner_user_id ON dataset (owner_user_id);
CREATE INDEX ix_dataset_team_id ON dataset (team_id);
CREATE TABLE seen_event (
	event_id VARCHAR(64) NOT NULL, 
	seen_at DATETIME NOT NULL, 
	PRIMARY KEY (event_id)
);
CREATE INDEX ix_seen_event_seen_at ON seen_event (seen_at);
CREATE TABLE try_thread (
	channel_id VARCHAR(32) NOT NULL, 
	thread_ts VARCHAR(32) NOT NULL, 
	model_name VARCHAR(200) NOT NULL, 
	user_id VARCHAR(32) NOT NULL, 
	created_at DATETIME NOT NULL, 
	PRIMARY KEY (channel_id, thread_ts)
);
CREATE TABLE dataset_content (
	dataset_id INTEGER NOT NULL, 
	examples_gz BLOB NOT NULL, 
	PRIMARY KEY (dataset_id), 
	FOREIGN KEY(dataset_id) REFERENCES dataset (id)
);
CREATE TABLE tuning_job (
	id INTEGER NOT NULL, 
	team_id VARCHAR(32) NOT NULL, 
	owner_user_id VARCHAR(32) NOT NULL, 
	channel_id VARCHAR(32) NOT NULL, 
	message_ts VARCHAR(32), 
	dataset_id INTEGER, 
	backend VARCHAR(16) NOT NULL, 
	display_name VARCHAR(80) NOT NULL, 
	base_model VARCHAR(200) NOT NULL, 
	model_name VARCHAR(200), 
	operation_name VARCHAR(300), 
	epoch_count INTEGER NOT NULL, 
	batch_size INTEGER NOT NULL, 
	learning_rate FLOAT NOT NULL, 
	state VARCHAR(16) NOT NULL, 
	percent FLOAT NOT NULL, 
	completed_steps INTEGER, 
	total_steps INTEGER, 
	epoch INTEGER, 
	mean_loss FLOAT, 
	error_message VARCHAR, 
	shown_signature VARCHAR(500), 
	created_at DATETIME NOT NULL, 
	updated_at DATETIME NOT NULL, 
	finished_at DATETIME, 
	next_poll_at DATETIME NOT NULL, 
	poll_interval_seconds FLOAT NOT NULL, 
	lease_owner VARCHAR(64), 
	lease_expires_at DATETIME, 
	notice_state VARCHAR(16) NOT NULL, 
	notice_ts VARCHAR(32), 
	PRIMARY KEY (id), 
	FOREIGN KEY(dataset_id) REFERENCES dataset (id)
);
CREATE INDEX ix_tuning_job_dataset_id ON tuning_job (dataset_id);
CREATE INDEX ix_tuning_job_model_name ON tuning_job (model_name);
CREATE INDEX ix_tuning_job_next_poll_at ON tuning_job (next_poll_at);
CREATE INDEX ix_tuning_job_owner_user_id ON tuning_job (owner_user_id);
CREATE INDEX ix_tuning_job_state ON tuning_job (state);
CREATE INDEX ix_tuning_job_team_id ON tuning_job (team_id);
CREATE TABLE model_ownership (
	model_name VARCHAR(200) NOT NULL, 
	team_id VARCHAR(32) NOT NULL, 
	owner_user_id VARCHAR(32) NOT NULL, 
	job_id INTEGER, 
	created_at DATETIME NOT NULL, 
	deleted_at DATETIME, 
	deleted_by VARCHAR(32), 
	PRIMARY KEY (model_name), 
	FOREIGN KEY(job_id) REFERENCES tuning_job (id)
);
CREATE INDEX ix_model_ownership_owner_user_id ON model_ownership (owner_user_id);
CREATE INDEX ix_model_ownership_team_id ON model_ownership (team_id);
