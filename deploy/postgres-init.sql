-- Run once by the postgres image on an empty volume: the warehouse's own database beside Airflow's.
CREATE DATABASE mimamori OWNER mimamori;
